package dev.portalloc.bench.eval;

/**
 * Builds one run of a JMH JSON result for tests (the fields {@link JmhScores} reads).
 *
 * <p>Thread-safety: stateless.
 */
final class JmhJson {
    private JmhJson() {
    }

    /**
     * @param method method of ExclusiveAllocationBenchmark
     * @param occupancy its occupancy parameter, or empty
     * @param score primary score in ns/op
     * @return the run as a JSON object
     */
    static String run(String method, String occupancy, double score) {
        final String params = occupancy.isEmpty() ? "" : ", \"params\" : { \"occupancy\" : \"" + occupancy + "\" }";
        return "{ \"benchmark\" : \"dev.portalloc.bench.ExclusiveAllocationBenchmark." + method + "\", \"threads\" : 1"
            + params + ", \"primaryMetric\" : { \"score\" : " + score + ", \"scoreError\" : \"NaN\", \"scoreUnit\" : \"ns/op\" } }";
    }
}
