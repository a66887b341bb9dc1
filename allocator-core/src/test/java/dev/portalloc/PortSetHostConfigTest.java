package dev.portalloc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Reading ip_local_port_range and ip_local_reserved_ports from fake and real /proc/sys trees. */
class PortSetHostConfigTest {

    private static final String RANGE_FILE = "net/ipv4/ip_local_port_range";
    private static final String RESERVED_FILE = "net/ipv4/ip_local_reserved_ports";
    private static final Path REAL_PROC_SYS = Path.of("/proc/sys");

    @TempDir
    Path procSys;

    private Path write(String file, String content) throws IOException {
        Path path = procSys.resolve(file);
        Files.createDirectories(path.getParent());
        Files.writeString(path, content, StandardCharsets.US_ASCII);
        return path;
    }

    // ---------------------------------------------------------------------------------------
    // ip_local_port_range

    @ParameterizedTest
    @ValueSource(strings = {"32768\t60999\n", "32768 60999\n", "32768\t60999", "  32768  \t 60999 \n\n"})
    void readsEphemeralRange(String content) throws IOException {
        write(RANGE_FILE, content);
        assertThat(PortSet.hostEphemeralRange(procSys)).isEqualTo(PortSet.LINUX_DEFAULT);
    }

    @Test
    void readsSinglePortEphemeralRange() throws IOException {
        write(RANGE_FILE, "1024\t1024\n");
        assertThat(PortSet.hostEphemeralRange(procSys)).isEqualTo(PortSet.of(1024));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "\n", "32768\n", "32768,60999\n", "32768-60999\n", "1 2 3\n",
        "60999\t32768\n", "0\t100\n", "1024\t70000\n", "abc\tdef\n", "-1\t5\n"})
    void rejectsMalformedEphemeralRange(String content) throws IOException {
        Path file = write(RANGE_FILE, content);
        assertThatThrownBy(() -> PortSet.hostEphemeralRange(procSys))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining(file.toString())
                .hasMessageContaining("malformed")
                .hasCauseInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void missingEphemeralRangeFileNamesThePath() {
        assertThatThrownBy(() -> PortSet.hostEphemeralRange(procSys))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining(procSys.resolve(RANGE_FILE).toString())
                .hasCauseInstanceOf(NoSuchFileException.class);
    }

    @Test
    void unreadableEphemeralRangeFileIsWrapped() throws IOException {
        Files.createDirectories(procSys.resolve(RANGE_FILE));    // a directory cannot be read as a file
        assertThatThrownBy(() -> PortSet.hostEphemeralRange(procSys))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining(procSys.resolve(RANGE_FILE).toString())
                .hasCauseInstanceOf(IOException.class);
    }

    // ---------------------------------------------------------------------------------------
    // ip_local_reserved_ports

    @ParameterizedTest
    @ValueSource(strings = {"", "\n", " \n"})
    void readsEmptyReservedPorts(String content) throws IOException {
        write(RESERVED_FILE, content);
        assertThat(PortSet.hostReservedPorts(procSys)).isEqualTo(PortSet.empty());
    }

    @Test
    void readsReservedPorts() throws IOException {
        write(RESERVED_FILE, "8080,9000-9010,50000\n");
        assertThat(PortSet.hostReservedPorts(procSys)).hasToString("8080,9000-9010,50000");
    }

    @Test
    void readsLongReservedPortsFileCompletely() throws IOException {
        // ~24 KB on one line: far beyond any single read buffer, so truncation would show.
        String odd = IntStream.rangeClosed(1, 10_000).filter(p -> p % 2 == 1)
                .mapToObj(Integer::toString).collect(Collectors.joining(","));
        write(RESERVED_FILE, odd + "\n");
        PortSet reserved = PortSet.hostReservedPorts(procSys);
        assertThat(reserved.size()).isEqualTo(5000);
        assertThat(reserved.first()).isEqualTo(1);
        assertThat(reserved.last()).isEqualTo(9999);
    }

    @ParameterizedTest
    @ValueSource(strings = {"1,,2\n", "0\n", "8080,\n", "80 90 100\n", "x\n"})
    void rejectsMalformedReservedPorts(String content) throws IOException {
        Path file = write(RESERVED_FILE, content);
        assertThatThrownBy(() -> PortSet.hostReservedPorts(procSys))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining(file.toString())
                .hasMessageContaining("malformed")
                .hasCauseInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void missingReservedPortsFileNamesThePath() {
        assertThatThrownBy(() -> PortSet.hostReservedPorts(procSys))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining(procSys.resolve(RESERVED_FILE).toString())
                .hasCauseInstanceOf(NoSuchFileException.class);
    }

    // ---------------------------------------------------------------------------------------
    // The OS check of the no-argument variants (tested through the package-private overloads)

    @Test
    void nonLinuxHostIsRejectedNamingTheOs() throws IOException {
        write(RANGE_FILE, "32768\t60999\n");
        write(RESERVED_FILE, "\n");
        assertThatThrownBy(() -> PortSet.hostEphemeralRange("Windows 11", procSys))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("Windows 11")
                .hasMessageContaining("Linux")
                .hasMessageContaining(RANGE_FILE);
        assertThatThrownBy(() -> PortSet.hostReservedPorts("Mac OS X", procSys))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("Mac OS X")
                .hasMessageContaining(RESERVED_FILE);
        assertThatThrownBy(() -> PortSet.hostReservedPorts((String) null, procSys))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("os.name");
        assertThat(PortSet.hostEphemeralRange("Linux", procSys)).isEqualTo(PortSet.LINUX_DEFAULT);
        assertThat(PortSet.hostReservedPorts("Linux", procSys)).isEqualTo(PortSet.empty());
    }

    // ---------------------------------------------------------------------------------------
    // The real /proc/sys (skipped, with the reason, elsewhere)

    private static void assumeLinuxWith(String file) {
        String os = System.getProperty("os.name");
        Assumptions.assumeTrue(os != null && os.startsWith("Linux"),
                () -> "needs a Linux host; os.name is " + os);
        Assumptions.assumeTrue(Files.isReadable(REAL_PROC_SYS.resolve(file)),
                () -> "needs a readable " + REAL_PROC_SYS.resolve(file));
    }

    private static String firstLine(Path file) throws IOException {
        try (BufferedReader reader = Files.newBufferedReader(file, StandardCharsets.US_ASCII)) {
            String line = reader.readLine();
            return line == null ? "" : line;
        }
    }

    @Test
    void realHostEphemeralRange() throws IOException {
        assumeLinuxWith(RANGE_FILE);
        String[] words = firstLine(REAL_PROC_SYS.resolve(RANGE_FILE)).trim().split("\\s+");
        assertThat(words).hasSize(2);
        PortSet expected = PortSet.range(Integer.parseInt(words[0]), Integer.parseInt(words[1]));
        PortSet actual = PortSet.hostEphemeralRange();
        assertThat(actual.isEmpty()).isFalse();
        assertThat(actual).isEqualTo(expected);
        assertThat(actual.rangeCount()).isEqualTo(1);
    }

    @Test
    void realHostReservedPorts() throws IOException {
        assumeLinuxWith(RESERVED_FILE);
        String line = firstLine(REAL_PROC_SYS.resolve(RESERVED_FILE));
        assertThat(PortSet.hostReservedPorts()).isEqualTo(PortSet.parse(line));
    }
}
