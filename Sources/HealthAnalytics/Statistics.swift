import Foundation

/// The statistics of the trend reports. Pure functions; each is checked against statsmodels/scipy values
/// in `Fixtures/analytics/reference.json` (generator: Tests/HealthAnalyticsTests/reference/make_reference.py).
public enum Statistics {
    /// z for a two-sided 95 % interval: Φ⁻¹(0.975).
    public static let z95 = 1.959963984540054

    /// A two-sided interval.
    public struct Interval: Sendable, Equatable, Codable {
        public var lower: Double
        public var upper: Double
        public init(lower: Double, upper: Double) { self.lower = lower; self.upper = upper }
    }

    /// Wilson score interval for x successes out of n (statsmodels `proportion_confint(method="wilson")`).
    ///
    ///     Statistics.wilson(394, 1062)   // ≈ 0.342 … 0.400
    public static func wilson(_ x: Int, _ n: Int, z: Double = z95) -> Interval? {
        guard n > 0, x >= 0, x <= n else { return nil }
        let nn = Double(n), p = Double(x) / nn, z2 = z * z
        let denominator = 1 + z2 / nn
        let centre = (p + z2 / (2 * nn)) / denominator
        let half = z / denominator * (p * (1 - p) / nn + z2 / (4 * nn * nn)).squareRoot()
        return Interval(lower: max(0, centre - half), upper: min(1, centre + half))
    }

    /// Newcombe's hybrid score interval (method 10) for the difference p1 − p2 of two independent proportions
    /// (statsmodels `confint_proportions_2indep(method="newcomb", compare="diff")`).
    public static func newcombe(_ x1: Int, _ n1: Int, _ x2: Int, _ n2: Int, z: Double = z95) -> (difference: Double, interval: Interval)? {
        guard let w1 = wilson(x1, n1, z: z), let w2 = wilson(x2, n2, z: z) else { return nil }
        let p1 = Double(x1) / Double(n1), p2 = Double(x2) / Double(n2), d = p1 - p2
        let lower = d - ((p1 - w1.lower) * (p1 - w1.lower) + (w2.upper - p2) * (w2.upper - p2)).squareRoot()
        let upper = d + ((w1.upper - p1) * (w1.upper - p1) + (p2 - w2.lower) * (p2 - w2.lower)).squareRoot()
        return (d, Interval(lower: lower, upper: upper))
    }

    /// Two-sided pooled z test of p1 = p2 (statsmodels `proportions_ztest`).
    public static func twoProportionZ(_ x1: Int, _ n1: Int, _ x2: Int, _ n2: Int) -> (z: Double, p: Double)? {
        guard n1 > 0, n2 > 0 else { return nil }
        let p1 = Double(x1) / Double(n1), p2 = Double(x2) / Double(n2)
        let pooled = Double(x1 + x2) / Double(n1 + n2)
        let se = (pooled * (1 - pooled) * (1 / Double(n1) + 1 / Double(n2))).squareRoot()
        guard se > 0 else { return nil }
        let z = (p1 - p2) / se
        return (z, twoSidedP(z))
    }

    /// Cochran–Armitage test for a linear trend in proportions over ordered groups (scores 0, 1, 2, …), in its
    /// linear-by-linear form z = T / √V · √((N − 1)/N), as statsmodels `Table.test_ordinal_association`.
    public static func cochranArmitage(successes x: [Int], totals n: [Int], scores: [Double]? = nil) -> (z: Double, p: Double)? {
        guard x.count == n.count, x.count >= 2 else { return nil }
        let s = scores ?? x.indices.map(Double.init)
        let total = Double(n.reduce(0, +)), p = Double(x.reduce(0, +)) / total
        guard total > 1, p > 0, p < 1 else { return nil }
        var t = 0.0, sumNS = 0.0, sumNS2 = 0.0
        for i in x.indices {
            t += s[i] * (Double(x[i]) - Double(n[i]) * p)
            sumNS += Double(n[i]) * s[i]
            sumNS2 += Double(n[i]) * s[i] * s[i]
        }
        let variance = p * (1 - p) * (sumNS2 - sumNS * sumNS / total)
        guard variance > 0 else { return nil }
        let z = t / variance.squareRoot() * ((total - 1) / total).squareRoot()
        return (z, twoSidedP(z))
    }

    /// A directly standardised rate: Σ wⱼ xⱼ/nⱼ with wⱼ the reference population's shares, and its
    /// Fay–Feuer (1997) gamma interval (as R epitools `ageadjust.direct`).
    public static func directlyStandardised(counts: [Int], populations: [Int], reference: [Double], level: Double = 0.95)
        -> (rate: Double, variance: Double, interval: Interval)? {
        guard counts.count == populations.count, counts.count == reference.count, !counts.isEmpty else { return nil }
        let refTotal = reference.reduce(0, +)
        guard refTotal > 0 else { return nil }
        var rate = 0.0, variance = 0.0, wm = 0.0
        for j in counts.indices {
            let w = reference[j] / refTotal
            guard populations[j] > 0 else {
                if w > 0 { return nil }   // a reference stratum with nobody measured: not standardisable
                continue
            }
            let n = Double(populations[j]), x = Double(counts[j])
            rate += w * x / n
            variance += w * w * x / (n * n)
            wm = max(wm, w / n)
        }
        let alpha = 1 - level
        let lower = rate > 0 && variance > 0
            ? Gamma.quantile(alpha / 2, shape: rate * rate / variance) * (variance / rate) : 0
        let upper = Gamma.quantile(1 - alpha / 2, shape: (rate + wm) * (rate + wm) / (variance + wm * wm)) * ((variance + wm * wm) / (rate + wm))
        return (rate, variance, Interval(lower: lower, upper: upper))
    }

    /// Two-sided p-value of a standard normal z.
    public static func twoSidedP(_ z: Double) -> Double { erfc(abs(z) / 2.squareRoot()) }
}

/// The regularised incomplete gamma function and its inverse (for the Fay–Feuer interval).
enum Gamma {
    /// P(a, x), the regularised lower incomplete gamma function.
    static func regularizedLower(_ a: Double, _ x: Double) -> Double {
        guard x > 0 else { return 0 }
        let logPrefix = a * log(x) - x - lgamma(a)
        if x < a + 1 {
            // Series: P = e^{-x} x^a / Γ(a+1) · Σ x^k / ((a+1)…(a+k)).
            var term = 1 / a, sum = term, ap = a
            for _ in 0..<10_000 {
                ap += 1
                term *= x / ap
                sum += term
                if abs(term) < abs(sum) * 1e-17 { break }
            }
            return min(1, sum * exp(logPrefix))
        }
        // Continued fraction for Q (modified Lentz).
        let tiny = 1e-300
        var b = x + 1 - a, c = 1 / tiny, d = 1 / b, h = d
        for i in 1..<10_000 {
            let an = -Double(i) * (Double(i) - a)
            b += 2
            d = an * d + b
            if abs(d) < tiny { d = tiny }
            c = b + an / c
            if abs(c) < tiny { c = tiny }
            d = 1 / d
            let delta = d * c
            h *= delta
            if abs(delta - 1) < 1e-17 { break }
        }
        return max(0, 1 - exp(logPrefix) * h)
    }

    /// The q-quantile of a gamma distribution with this shape and scale 1.
    static func quantile(_ q: Double, shape a: Double) -> Double {
        guard q > 0 else { return 0 }
        guard q < 1, a > 0 else { return .infinity }
        // Bracket, then Newton steps kept inside the bracket (bisection when a step leaves it).
        var lo = 0.0, hi = max(1.0, a)
        while regularizedLower(a, hi) < q { lo = hi; hi *= 2 }
        // Wilson–Hilferty start.
        let z = Normal.quantile(q)
        let wh = a * pow(1 - 1 / (9 * a) + z / (3 * a.squareRoot()), 3)
        var x = wh > lo && wh < hi ? wh : (lo + hi) / 2
        for _ in 0..<200 {
            let f = regularizedLower(a, x) - q
            if f < 0 { lo = x } else { hi = x }
            let density = exp((a - 1) * log(x) - x - lgamma(a))
            var next = density > 0 ? x - f / density : (lo + hi) / 2
            if !(next > lo && next < hi) { next = (lo + hi) / 2 }
            if abs(next - x) <= 1e-15 * max(1, x) { return next }
            x = next
        }
        return x
    }
}

/// The standard normal distribution.
enum Normal {
    /// Φ⁻¹(p) (Acklam's approximation refined by one Halley step: accurate to ~1e-15).
    static func quantile(_ p: Double) -> Double {
        let a = [-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02, 1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00]
        let b = [-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02, 6.680131188771972e+01, -1.328068155288572e+01]
        let c = [-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00, -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00]
        let d = [7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00]
        var x: Double
        if p < 0.02425 {
            let q = (-2 * log(p)).squareRoot()
            x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
        } else if p > 1 - 0.02425 {
            let q = (-2 * log(1 - p)).squareRoot()
            x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
        } else {
            let q = p - 0.5, r = q * q
            x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
        }
        let e = 0.5 * erfc(-x / 2.squareRoot()) - p
        let u = e * (2 * Double.pi).squareRoot() * exp(x * x / 2)
        x -= u / (1 + x * u / 2)
        return x
    }
}
