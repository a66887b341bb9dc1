/**
 * Micrometer metrics for portalloc: {@link dev.portalloc.metrics.AllocatorMetrics} binds a
 * {@link dev.portalloc.PortAllocator}'s {@link dev.portalloc.AllocatorStats} to a {@code MeterRegistry}.
 *
 * <p>Micrometer ({@code io.micrometer:micrometer-core}, module {@code micrometer.core}) is an optional dependency:
 * add it to use this package; nothing else in portalloc loads it. On the module path, a module that uses this
 * package {@code requires micrometer.core} itself.
 */
package dev.portalloc.metrics;
