package dev.portalloc.examples;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

class QuickStartTest {
    @Test
    void runsAndShowsAllocationReservationAndExhaustion() {
        PrintStream saved = System.out;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        try {
            QuickStart.main(new String[0]);
        } finally {
            System.setOut(saved);
        }
        String text = out.toString(StandardCharsets.UTF_8);
        assertThat(text)
            .contains("tryAcquire(32800) [reserved, explicit] -> true")
            .contains("tryAcquire(32800) again              -> false")
            .contains("then took 214 more ports")
            .contains("no free port: the automatic set has 256 ports, 40 of them reserved and 216 held")
            .contains("acquisitions=218, releases=1, failedAcquisitions=2");
    }
}
