import ArgumentParser
import Foundation
import HealthServer
import HealthServices
import Logging

/// `schoolhealth serve`: the web application on this database.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the web application (Chinese first): nurses upload, the health office reads its dashboard, counsellors work their queue.",
        discussion: """
            Listens on 127.0.0.1:8080 unless told otherwise. Put it behind a reverse proxy that terminates TLS (README: \
            "The web application") and pass --secure-cookies there. Prints "LISTENING <port>" once it accepts \
            connections (--port 0 picks a free one). Stops on SIGTERM or SIGINT within 5 seconds.
            """)

    @OptionGroup var global: GlobalOptions
    @Option(help: "The address to listen on (loopback unless a proxy on another host needs it).") var host = "127.0.0.1"
    @Option(help: "The port (0: any free one).") var port = 8080
    @Flag(help: "Mark cookies Secure and send HSTS: set when TLS terminates in front of the server.") var secureCookies = false
    @Option(help: ArgumentHelp("Where uploads are spooled (default: beside the database).", valueName: "dir")) var workDir: String?
    @Option(help: ArgumentHelp("Take a backup here every day at Config/backup.yaml's dailyAt (county time), verified and pruned by its retention; the administrator's page shows the last good one.", valueName: "dir")) var backupDir: String?

    func run() async throws {
        var logger = Logger(label: "schoolhealth.web")
        logger.logLevel = .info
        let services = try global.services(logger: logger)
        var options = ServerOptions(workDirectory: workDir ?? global.databasePath + ".web")
        options.host = host
        options.port = port
        options.secureCookies = secureCookies
        options.backupDirectory = backupDir
        let app = try WebApp(services: services, options: options)
        try await app.run(logger: logger) { port in
            FileHandle.standardOutput.write(Data("LISTENING \(port)\n".utf8))
        }
    }
}
