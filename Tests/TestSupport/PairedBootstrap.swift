import Core

/// How far a benchmark's comparison of two paired samples moves by chance
/// alone (issue 9's MatrixBench, issue 12's GatewayBench): each round holds
/// one sample of each side taken next to each other (a page and the floor
/// sampled right after it), so a burst of machine load counts once, as it
/// happened. The rounds are resampled whole (bootstrap, fixed seed) and the
/// statistic computed on each resample; a target is "shown" only when the
/// whole interval is on one side of it.
public enum PairedBootstrap {
    /// The 5th and 95th percentile of `statistic` over `resamples`
    /// resamplings of `rounds` rounds; `statistic` gets the chosen rounds'
    /// indexes (with repeats).
    public static func interval(rounds: Int, resamples: Int = 1000, seed: UInt64 = 9,
                                _ statistic: ([Int]) -> Double) -> (low: Double, high: Double) {
        precondition(rounds > 0 && resamples >= 20, "nothing to resample")
        var random = SeededRandom(seed: seed)
        var values: [Double] = []
        values.reserveCapacity(resamples)
        for _ in 0..<resamples {
            let picks = (0..<rounds).map { _ in Int(random.next() % UInt64(rounds)) }
            values.append(statistic(picks))
        }
        values.sort()
        return (values[resamples / 20], values[resamples - resamples / 20 - 1])
    }

    /// What an interval shows about the target "statistic ≤ `limit`".
    public static func verdict(_ interval: (low: Double, high: Double), atMost limit: Double) -> String {
        interval.high <= limit ? "shown met: the whole interval is within the target"
            : interval.low > limit ? "shown NOT met: the whole interval is above the target"
            : "not shown either way: the interval spans the target"
    }
}
