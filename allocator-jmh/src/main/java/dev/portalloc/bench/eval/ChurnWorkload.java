package dev.portalloc.bench.eval;

/**
 * Parameters of a synthetic connection churn: Poisson arrivals at {@code arrivalRate} per simulated second,
 * lifetimes from {@code lifetimes}, destinations from {@code popularity}, held at a steady number of live
 * connections. See {@link ChurnRun} for how the occupancy is held.
 *
 * <p>Thread-safety: immutable value.
 *
 * @param occupancy target fraction of the selectable ports in use, in [0, 1)
 * @param popularity destination model
 * @param lifetime lifetime distribution kind (the mean follows from the occupancy and the rate)
 * @param destinations number of workload destinations
 * @param zipfExponent Zipf exponent (for {@link Popularity.Kind#ZIPF})
 * @param hotShare share of the hot backend (for {@link Popularity.Kind#HOT})
 * @param arrivalRate arrivals per simulated second
 * @param allocations measured allocations after the fill
 * @param probeEvery one victim allocation in this many is sandwiched by attacker probes (view c); 0 for none
 */
record ChurnWorkload(double occupancy, Popularity.Kind popularity, Lifetimes.Kind lifetime, int destinations,
                     double zipfExponent, double hotShare, double arrivalRate, int allocations, int probeEvery) {

    /** @return a short label, e.g. {@code uniform/exponential} */
    String label() {
        return popularity.name().toLowerCase(java.util.Locale.ROOT) + "/" + lifetime.name().toLowerCase(java.util.Locale.ROOT);
    }
}
