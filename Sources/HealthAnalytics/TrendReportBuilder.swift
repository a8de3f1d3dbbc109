public import HealthCore
/// Builds the trend report from counts: rates and intervals, suppression, changes, trends,
/// standardisation, incidence and targets. Pure: the caller reads the counts from the store.
public struct TrendReportBuilder: Sendable {
    public var settings: ReportSettings
    public var years: [Int]
    /// Schools to show (all when nil); the county always covers every school.
    public var schools: [String]?
    public var breakdown: Breakdown
    public var suppress: Bool
    public var title = "SchoolHealth trend report"

    public init(settings: ReportSettings, years: [Int], schools: [String]? = nil, breakdown: Breakdown = .none, suppress: Bool = true) {
        self.settings = settings; self.years = years; self.schools = schools; self.breakdown = breakdown; self.suppress = suppress
    }

    struct Key: Hashable {
        var measure: String
        var area: Area
        var year: Int
        var grade: Int?
        var sex: Int?
    }

    static let incidenceMeasure = "myopia_incidence"

    /// Follow-up measures whose denominator is another's numerator: hidden together (`Suppression.plan`).
    static let linked = ScreeningLoop.followUpKinds.map { ("followup_returned_" + $0, "followup_confirmed_" + $0) }

    public func build(strata: [Stratum], followUps: [FollowUp], followUpDays: [FollowUpDays] = [], generated: String,
                      ruleVersions: [String: String]) -> TrendReport {
        let yearSet = Set(years)
        let strata = strata.filter { yearSet.contains($0.year) }
        let allSchools = Set(strata.map(\.school)).union(followUps.map(\.school)).sorted()
        let shown = schools.map { wanted in allSchools.filter { wanted.contains($0) } } ?? allSchools
        let areas = [countyArea] + shown

        // 1. Counts of every cell any report could publish: each area at every level, whatever this report shows
        //    (so that the suppression pattern is the same for every --by, --school and --from/--to).
        var counts: [Key: (num: Int, den: Int)] = [:]
        func add(_ key: Key, _ n: Int, _ d: Int) {
            let c = counts[key] ?? (0, 0)
            counts[key] = (c.num + n, c.den + d)
        }
        for s in strata {
            for area in [countyArea, s.school] {
                for (grade, sex) in [(nil, nil), (s.grade, nil), (nil, s.sex), (s.grade, s.sex)] as [(Int?, Int?)] {
                    add(Key(measure: s.measure, area: area, year: s.year, grade: grade, sex: sex), s.numerator, s.denominator)
                }
            }
        }
        for f in followUps where yearSet.contains(f.fromYear) && yearSet.contains(f.fromYear + 1) {
            for area in [countyArea, f.school] {
                add(Key(measure: Self.incidenceMeasure, area: area, year: f.fromYear, grade: nil, sex: nil), f.incident, f.followed)
            }
        }
        // 2. Suppression, decided once on all of them (Suppression.swift).
        let plan = suppress ? Suppression.plan(counts: counts, threshold: settings.suppressionThreshold, linked: Self.linked) : SuppressionPlan()
        let hidden = (numerators: plan.numerators, denominators: plan.denominators)

        // 3. Cells.
        var cells: [RateCell] = []
        var cellIndex: [Key: Int] = [:]
        let measureOrder = Dictionary(uniqueKeysWithValues: Measure.all.enumerated().map { ($1.id, $0) })
        let areaOrder = Dictionary(uniqueKeysWithValues: areas.enumerated().map { ($1, $0) })
        let keys = counts.keys.filter { areaOrder[$0.area] != nil && $0.measure != Self.incidenceMeasure && breakdown.shows($0) }.sorted {
            (measureOrder[$0.measure] ?? 99, areaOrder[$0.area]!, $0.year, $0.grade ?? -1, $0.sex ?? -1)
                < (measureOrder[$1.measure] ?? 99, areaOrder[$1.area]!, $1.year, $1.grade ?? -1, $1.sex ?? -1)
        }
        for key in keys {
            let c = counts[key]!
            cellIndex[key] = cells.count
            cells.append(cell(key, c, hidden))
        }

        // 4. Changes and trends on the totals.
        var changes: [Change] = []
        var trends: [TrendTest] = []
        let sortedYears = years.sorted()
        for measure in Measure.all {
            for area in areas {
                let totals = sortedYears.map { counts[Key(measure: measure.id, area: area, year: $0, grade: nil, sex: nil)] }
                let hiddenYears = sortedYears.map { hidden.numerators.contains(Key(measure: measure.id, area: area, year: $0, grade: nil, sex: nil)) }
                for i in sortedYears.indices.dropFirst() {
                    guard let a = totals[i - 1], let b = totals[i], a.den > 0, b.den > 0, sortedYears[i] == sortedYears[i - 1] + 1 else { continue }
                    let suppressed = hiddenYears[i] || hiddenYears[i - 1]
                    let d = Statistics.newcombe(b.num, b.den, a.num, a.den)
                    let z = Statistics.twoProportionZ(b.num, b.den, a.num, a.den)
                    changes.append(Change(measure: measure.id, area: area, fromYear: sortedYears[i - 1], toYear: sortedYears[i],
                                          differencePP: suppressed ? nil : d.map { $0.difference * 100 },
                                          lowerPP: suppressed ? nil : d.map { $0.interval.lower * 100 },
                                          upperPP: suppressed ? nil : d.map { $0.interval.upper * 100 },
                                          p: suppressed ? nil : z?.p, suppressed: suppressed))
                }
                if sortedYears.count >= 3, totals.allSatisfy({ ($0?.den ?? 0) > 0 }) {
                    let suppressed = hiddenYears.contains(true)
                    let t = Statistics.cochranArmitage(successes: totals.map { $0!.num }, totals: totals.map { $0!.den })
                    trends.append(TrendTest(measure: measure.id, area: area, fromYear: sortedYears.first!, toYear: sortedYears.last!,
                                            z: suppressed ? nil : t?.z, p: suppressed ? nil : t?.p, suppressed: suppressed))
                }
            }
        }

        // 5. Direct standardisation by grade × sex to the county in the reference year.
        let referenceYear = settings.standardReference == "first" ? sortedYears.first : Int(settings.standardReference)
        var standardised: [StandardisedRate] = []
        var strataByCell: [Key: [Int: (num: Int, den: Int)]] = [:]   // (measure, area, year) → stratum (grade*10+sex)
        for s in strata {
            for area in [countyArea, s.school] {
                let k = Key(measure: s.measure, area: area, year: s.year, grade: nil, sex: nil)
                let stratum = s.grade * 10 + s.sex
                let c = strataByCell[k, default: [:]][stratum] ?? (0, 0)
                strataByCell[k, default: [:]][stratum] = (c.num + s.numerator, c.den + s.denominator)
            }
        }
        if let referenceYear {
            for measure in Measure.all where !measure.isProcess {
                guard let reference = strataByCell[Key(measure: measure.id, area: countyArea, year: referenceYear, grade: nil, sex: nil)] else { continue }
                for area in areas {
                    for year in sortedYears {
                        let k = Key(measure: measure.id, area: area, year: year, grade: nil, sex: nil)
                        guard let own = strataByCell[k] else { continue }
                        // Strata the area has and the reference has: the reference's grade × sex mix within them.
                        let shared = own.keys.filter { (own[$0]?.den ?? 0) > 0 && (reference[$0]?.den ?? 0) > 0 }.sorted()
                        guard !shared.isEmpty else { continue }
                        // Hidden when any of its strata is: rates under different reference years are different
                        // weightings of the same strata, and would otherwise let a hidden stratum be solved for.
                        let suppressed = hidden.numerators.contains(k)
                            || shared.contains { hidden.numerators.contains(Key(measure: measure.id, area: area, year: year, grade: $0 / 10, sex: $0 % 10)) }
                        let s = Statistics.directlyStandardised(counts: shared.map { own[$0]!.num }, populations: shared.map { own[$0]!.den },
                                                                reference: shared.map { Double(reference[$0]!.den) })
                        standardised.append(StandardisedRate(measure: measure.id, area: area, year: year,
                                                             rate: suppressed ? nil : s?.rate, lower: suppressed ? nil : s?.interval.lower,
                                                             // A proportion cannot exceed 1: the gamma interval's upper end is capped there.
                                                             upper: suppressed ? nil : s.map { min(1, $0.interval.upper) }, suppressed: suppressed))
                    }
                }
            }
        }

        // 6. Incidence.
        var incidence: [Incidence] = []
        for area in areas {
            for year in sortedYears {
                let k = Key(measure: Self.incidenceMeasure, area: area, year: year, grade: nil, sex: nil)
                guard let c = counts[k] else { continue }
                let atRisk = followUps.filter { $0.fromYear == year && (area == countyArea || $0.school == area) }.reduce(0) { $0 + $1.atRisk }
                let suppressed = hidden.numerators.contains(k)
                // Those at risk are the students not myopic at the first screening: the myopia cell's denominator
                // less its numerator. Published only where that cell is, so that neither is solved from the other.
                let myopia = Key(measure: "myopia", area: area, year: year, grade: nil, sex: nil)
                let atRiskShown = !hidden.numerators.contains(myopia) && !hidden.denominators.contains(myopia) && counts[myopia] != nil
                let followedShown = !hidden.denominators.contains(k)
                let w = Statistics.wilson(c.num, c.den)
                incidence.append(Incidence(
                    area: area, fromYear: year, toYear: year + 1,
                    atRisk: atRiskShown ? atRisk : nil,
                    followed: followedShown ? c.den : nil, incident: suppressed ? nil : c.num,
                    rate: suppressed || c.den == 0 ? nil : Double(c.num) / Double(c.den),
                    lower: suppressed ? nil : w?.lower, upper: suppressed ? nil : w?.upper,
                    lostToFollowUp: atRisk == 0 || !atRiskShown || !followedShown ? nil : Double(atRisk - c.den) / Double(atRisk), suppressed: suppressed))
            }
        }

        // 7. Median days from notice to result, shown where the returned count is.
        var times: [FollowUpTime] = []
        for kind in ScreeningLoop.followUpKinds {
            for area in areas {
                for year in sortedYears {
                    let days = followUpDays.filter { $0.kind == kind && $0.year == year && (area == countyArea || $0.school == area) }.flatMap(\.days)
                    guard !days.isEmpty else { continue }
                    let k = Key(measure: "followup_returned_" + kind, area: area, year: year, grade: nil, sex: nil)
                    let suppressed = suppress && (hidden.numerators.contains(k) || days.count < settings.suppressionThreshold)
                    let m = MedianInterval.of(days)
                    times.append(FollowUpTime(area: area, year: year, kind: kind, returned: suppressed ? nil : days.count,
                                              medianDays: suppressed ? nil : m?.median, lower: suppressed ? nil : m?.lower, upper: suppressed ? nil : m?.upper,
                                              suppressed: suppressed))
                }
            }
        }

        // 8. Targets.
        var targets: [TargetResult] = []
        for target in settings.targets {
            for area in areas {
                for year in sortedYears {
                    switch target.kind {
                    case .level:
                        let c = cellIndex[Key(measure: target.measure, area: area, year: year, grade: nil, sex: nil)].map { cells[$0] }
                        guard let c, let goal = target.atLeast else { continue }
                        if let rate = c.rate {
                            targets.append(TargetResult(target: target.id, area: area, year: year, status: rate >= goal ? .met : .notMet,
                                                        value: rate, gap: goal - rate))
                        } else {
                            targets.append(TargetResult(target: target.id, area: area, year: year, status: .notMeasurable, value: nil, gap: nil))
                        }
                    case .yearOnYearChange:
                        guard year != sortedYears.first, let goal = target.atMostPP,
                              counts[Key(measure: target.measure, area: area, year: year, grade: nil, sex: nil)] != nil else { continue }
                        let change = changes.first { $0.measure == target.measure && $0.area == area && $0.toYear == year }
                        if let d = change?.differencePP {
                            targets.append(TargetResult(target: target.id, area: area, year: year, status: d <= goal ? .met : .notMet,
                                                        value: d, gap: d - goal))
                        } else {
                            targets.append(TargetResult(target: target.id, area: area, year: year, status: .notMeasurable, value: nil, gap: nil))
                        }
                    }
                }
            }
        }

        var report = TrendReport(
            title: title, generated: generated, years: sortedYears, areas: areas, breakdown: breakdown, suppressionOn: suppress,
            suppressionThreshold: settings.suppressionThreshold, unstableDenominator: settings.unstableDenominator,
            containsIdentifiableData: !suppress, referenceYear: referenceYear, ruleVersions: ruleVersions,
            measures: Measure.all.filter { m in cells.contains { $0.measure == m.id } }, cells: cells, changes: changes, trends: trends,
            standardised: standardised, incidence: incidence, targets: targets,
            targetSources: Dictionary(uniqueKeysWithValues: settings.targets.map { ($0.id, $0.source) }))
        report.followUpTimes = times
        return report
    }

    private func cell(_ key: Key, _ c: (num: Int, den: Int), _ hidden: (numerators: Set<Key>, denominators: Set<Key>)) -> RateCell {
        let numeratorHidden = hidden.numerators.contains(key)
        let w = Statistics.wilson(c.num, c.den)
        var cell = RateCell(measure: key.measure, area: key.area, year: key.year, grade: key.grade, sex: key.sex,
                            numerator: numeratorHidden ? nil : c.num, denominator: hidden.denominators.contains(key) ? nil : c.den,
                            rate: numeratorHidden || c.den == 0 ? nil : Double(c.num) / Double(c.den),
                            lower: numeratorHidden ? nil : w?.lower, upper: numeratorHidden ? nil : w?.upper,
                            suppressed: numeratorHidden, unstable: !numeratorHidden && c.den < settings.unstableDenominator)
        cell.trueNumerator = c.num
        cell.trueDenominator = c.den
        return cell
    }
}
