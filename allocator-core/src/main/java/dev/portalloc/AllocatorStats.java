package dev.portalloc;

/**
 * An immutable snapshot of a {@link PortAllocator}'s configuration sizes and activity counters.
 *
 * <p>The snapshot is <em>weakly consistent</em>: each figure is exact for some moment during the call to
 * {@link PortAllocator#stats()}, but the figures are not read atomically together (counters are kept
 * per thread so that counting never serialises the allocating threads). With no concurrent activity the
 * snapshot is exact.
 *
 * @param automaticPorts size of the automatic-selection set ({@code ports} of the builder)
 * @param reservedPorts size of the reserved set (ports never chosen automatically)
 * @param selectablePorts ports that automatic selection may return: automatic set minus reserved
 * @param heldPorts ports currently held anywhere in 1..65535: exclusively (automatically or explicitly), in
 *     exclusive quarantine, or carrying connect-style tuples
 * @param freePorts selectable ports that are not held: those an automatic exclusive acquisition could return
 *     now. Held ports outside the selectable set (explicit binds, reserved ports) do not reduce it, so it is
 *     not {@code selectablePorts - heldPorts}. A connect-style acquisition may also use held ports that carry
 *     tuples to other destinations
 * @param acquisitions successful acquisitions (automatic and explicit) since the allocator was built
 * @param releases successful releases since the allocator was built
 * @param failedAcquisitions automatic acquisitions that found no free port (exhaustion)
 * @param liveTuples live connect-style tuples (quarantined ones excluded)
 * @param quarantined entries in quarantine: released tuples and released exclusive ports, including entries
 *     whose time has passed but which no acquisition has expired yet (expiry is lazy)
 * @param probes candidates examined by automatic selections since the allocator was built: each port tested
 *     (a uniform probe, including an exclusive probe's offset past the end of the selectable span, or the
 *     algorithm's {@code check_suitable_port}) counts 1, and each bitmap word, block
 *     count or hint word read by a scan counts 1. Divided by {@code acquisitions + failedAcquisitions} of the
 *     same snapshot it is the mean cost of a selection in the unit the evaluation harness reports
 */
public record AllocatorStats(
    int automaticPorts,
    int reservedPorts,
    int selectablePorts,
    int heldPorts,
    int freePorts,
    long acquisitions,
    long releases,
    long failedAcquisitions,
    long liveTuples,
    long quarantined,
    long probes) {
}
