import HealthCore

/// What saving a list (a school's students, clinics' results) did: its batch, its counts, or — the same file saved
/// before — the warning that says so.
struct ListSave {
    var batch: Int64
    var already: ReasonText?
    var inserted = 0, updated = 0, unchanged = 0
}

/// The end every import of a list shares. A dry run hands over the rejects and counts what would be saved; else
/// `save` runs with the rejects written and sealed inside its transaction (safe before anything is saved, and
/// dropped if it fails), and the same file again is reported as already imported, with nothing else said.
enum ListImport {
    static func finish(_ report: inout FileReport, pending: [Rejection], rejects: any RejectionSink, dryRun: Bool, accepted: Int,
                       save: (_ beforeCommit: () throws -> Void) throws -> ListSave) throws {
        if dryRun {
            for r in pending { try rejects.add(r) }
            try rejects.seal()
            report.status = .dryRun
            report.inserted = accepted
            return
        }
        var sealed = false
        let saved: ListSave
        do {
            saved = try save {
                for r in pending { try rejects.add(r) }
                try rejects.seal()
                sealed = true
            }
        } catch {
            rejects.settle(kept: false)
            throw error
        }
        report.batch = saved.batch
        if let already = saved.already {
            rejects.settle(kept: false)
            report.status = .alreadyImported
            report.rejected = 0
            report.warnings.removeAll()
            report.explainedWarnings.removeAll()
            report.warn(already)
            return
        }
        rejects.settle(kept: sealed)
        (report.inserted, report.updated, report.unchanged) = (saved.inserted, saved.updated, saved.unchanged)
    }
}
