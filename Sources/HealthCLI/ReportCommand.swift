import ArgumentParser
import Foundation
import HealthAnalytics
import HealthCore
import HealthIngest
import HealthRisk
import HealthStore
import HealthServices

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Reports for the health office.",
        subcommands: [Trends.self])

    struct Trends: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Rates per school and year with 95 % intervals, changes, trend tests, standardised rates, incidence and targets.",
            discussion: """
                Small cells are suppressed by default (threshold and settings in Config/report.yaml), with \
                complementary suppression so that no suppressed value can be recovered from a total. \
                --no-suppression turns that off and stamps the output as containing identifiable data.

                Examples:
                  schoolhealth report trends --format html -o report.html
                  schoolhealth report trends --from 2022 --to 2024 --school SH-P01 --by grade,sex --format md
                """)

        @OptionGroup var global: GlobalOptions
        @Option(help: "First school year shown (default: the first in the database).")
        var from: Int?
        @Option(help: "Last school year shown (default: the last in the database).")
        var to: Int?
        @Option(help: ArgumentHelp("Show only these schools (the county total always covers all).", valueName: "code"))
        var school: [String] = []
        @Option(help: ArgumentHelp("Break each school's rates down.", valueName: "grade|sex|grade,sex"))
        var by: String?
        @Option(help: ArgumentHelp("Output format (default: from the -o extension, else md).", valueName: "html|csv|json|md"))
        var format: String?
        @Option(name: .shortAndLong, help: ArgumentHelp("Write to this file instead of standard output.", valueName: "path"))
        var output: String?
        @Flag(help: "Turn small-cell suppression off (health office accounts only; logged; the output contains identifiable data and says so).")
        var noSuppression = false
        @Option(help: ArgumentHelp("With --no-suppression: your login (the password is asked); or set SCHOOLHEALTH_TOKEN.", valueName: "login"))
        var login: String?

        func validate() throws {
            if let by, Breakdown(rawValue: by) == nil { throw ValidationError("--by takes grade, sex or grade,sex") }
            if let format, ReportFormat(rawValue: format) == nil { throw ValidationError("--format takes html, csv, json or md") }
            if let from, let to, from > to { throw ValidationError("--from \(from) is after --to \(to)") }
            if let output {
                do { try OutputSafety.check(outputs: [("-o", output)], database: global.databasePath, inputs: []) } catch { throw ValidationError(error.description) }
            }
        }

        func run() async throws {
            let services = try global.services()
            var request = TrendRequest(from: from, to: to, schools: school, breakdown: by.flatMap(Breakdown.init(rawValue:)) ?? .none,
                                       suppress: !noSuppression, purpose: CommandLine.arguments.dropFirst().joined(separator: " "),
                                       language: CLIMessages.language)
            if noSuppression {
                var auth = AuthOptions()
                auth.login = login
                request.actor = try auth.actor(services.store)
            }
            let report = try await services.reports.trends(request)
            let chosen = format.flatMap(ReportFormat.init(rawValue:))
                ?? output.flatMap { ReportFormat(rawValue: ($0 as NSString).pathExtension.lowercased()) } ?? .md
            let text = try services.reports.render(report, chosen, language: CLIMessages.language).text
            if let output {
                try text.write(toFile: output, atomically: true, encoding: .utf8)
                let facts = ["path": output, "format": chosen.rawValue, "cells": String(report.cells.count)]
                Console.error(report.suppressionOn
                    ? CLIMessages.text("cli.report.wrote", facts, english: "wrote \(output) (\(chosen.rawValue), \(report.cells.count) cells, suppression on)")
                    : CLIMessages.text("cli.report.wroteUnsuppressed", facts, english: "wrote \(output) (\(chosen.rawValue), \(report.cells.count) cells, suppression OFF: identifiable data)"))
            } else {
                print(text, terminator: "")
            }
        }
    }
}
