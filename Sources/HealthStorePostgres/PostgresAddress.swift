import Foundation

/// Where a PostgreSQL database is: `postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE` (or `postgres://`).
///
///     let address = try PostgresAddress(parsing: "postgresql://schoolhealth@127.0.0.1:5432/county")
///     address.shown   // "postgresql://schoolhealth@127.0.0.1:5432/county" — never the password
public struct PostgresAddress: Sendable, Equatable {
    public var user: String
    public var password: String?
    public var host: String
    public var port: Int
    public var database: String

    /// Whether `text` names a PostgreSQL database rather than a SQLite file.
    public static func isAddress(_ text: String) -> Bool {
        text.hasPrefix("postgresql://") || text.hasPrefix("postgres://")
    }

    public init(user: String, password: String? = nil, host: String, port: Int = 5432, database: String) {
        self.user = user; self.password = password; self.host = host; self.port = port; self.database = database
    }

    /// Reads an address; `nil` with a reason when it is not one SchoolHealth can use.
    public init(parsing text: String) throws(AddressError) {
        guard Self.isAddress(text), let url = URLComponents(string: text) else { throw AddressError(text: text, reason: "not a postgresql:// address") }
        guard let host = url.host, !host.isEmpty else { throw AddressError(text: text, reason: "no host") }
        let database = String(url.path.drop(while: { $0 == "/" }))
        guard !database.isEmpty else { throw AddressError(text: text, reason: "no database name after the host (…/DATABASE)") }
        let unsupported = (url.queryItems ?? []).filter { !($0.name == "sslmode" && $0.value == "disable") }
        if let item = unsupported.first {
            throw AddressError(text: text, reason: "\(item.name)=\(item.value ?? "") is not supported: this version connects without TLS, so use a loopback or private-network address (or a local TLS tunnel)")
        }
        self.init(user: url.user?.removingPercentEncoding ?? "postgres", password: url.password?.removingPercentEncoding,
                  host: host, port: url.port ?? 5432, database: database.removingPercentEncoding ?? database)
    }

    /// `text` (an address, well formed or not) with its password, if any, masked: what may be shown of it.
    ///
    ///     PostgresAddress.masking("postgresql://nurse:pw@host/db")   // "postgresql://nurse:***@host/db"
    public static func masking(_ text: String) -> String {
        text.replacingOccurrences(of: #"://([^:@/]*):[^@/]*@"#, with: "://$1:***@", options: .regularExpression)
    }

    /// The address as it may be logged and shown: without the password.
    public var shown: String { "postgresql://\(user)@\(host):\(port)/\(database)" }

    /// The same server, another database (tests make one per case).
    public func database(_ name: String) -> PostgresAddress {
        var other = self
        other.database = name
        return other
    }
}

/// A `--db` value that looks like a PostgreSQL address but cannot be used.
public struct AddressError: Error, CustomStringConvertible, Sendable {
    public var text: String
    public var reason: String
    public var description: String { "\(PostgresAddress.masking(text)): \(reason)" }
}
