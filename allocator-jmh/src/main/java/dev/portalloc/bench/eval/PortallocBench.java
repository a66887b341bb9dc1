package dev.portalloc.bench.eval;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code portalloc-bench}: the evaluation harness's command line, with the subcommands {@code evaluate} (run the
 * evaluation, write the report) and {@code check-goals} (judge a JMH JSON result against the performance
 * targets). Run it from the benchmark jar:
 * {@code java -cp allocator-jmh/target/benchmarks.jar dev.portalloc.bench.eval.PortallocBench evaluate}.
 *
 * <p>Thread-safety: the entry point; not for concurrent use.
 */
@Command(name = "portalloc-bench", mixinStandardHelpOptions = true, version = "portalloc-bench 0.1.0",
    description = "Compare and tune port-selection algorithms: quality (security, reuse, uniformity), cost and speed.",
    subcommands = {EvaluateCommand.class, CheckGoalsCommand.class, CommandLine.HelpCommand.class})
public final class PortallocBench implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /**
     * @param args command-line arguments
     */
    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /** @return the configured command line (also used by tests) */
    static CommandLine commandLine() {
        final CommandLine cl = new CommandLine(new PortallocBench());
        // Bad values surface as IllegalArgumentException from the settings parser: show its message, not a trace.
        cl.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            if (e instanceof IllegalArgumentException) {
                commandLine.getErr().println("portalloc-bench: " + e.getMessage());
                return 2;
            }
            throw e;
        });
        return cl;
    }

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "missing subcommand: evaluate or check-goals");
    }
}
