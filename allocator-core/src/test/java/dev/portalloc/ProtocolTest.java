package dev.portalloc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class ProtocolTest {

    @ParameterizedTest(name = "{0} = {1}")
    @CsvSource({"TCP, 6", "UDP, 17", "DCCP, 33", "SCTP, 132", "UDPLITE, 136"})
    void namedConstants(String name, int number) throws Exception {
        Protocol constant = (Protocol) Protocol.class.getField(name).get(null);
        assertThat(constant.number()).isEqualTo(number);
        assertThat(constant.name()).isEqualTo(name);
        assertThat(constant).hasToString(name);
        assertThat(Protocol.of(number)).isSameAs(constant);
    }

    @Test
    void unnamedNumbers() {
        Protocol gre = Protocol.of(47);
        assertThat(gre.number()).isEqualTo(47);
        assertThat(gre.name()).isEqualTo("protocol 47");
        assertThat(gre).hasToString("protocol 47");
        assertThat(Protocol.of(0)).hasToString("protocol 0");
        assertThat(Protocol.of(255)).hasToString("protocol 255");
    }

    @Test
    void everyNumberHasOneCanonicalInstance() {
        Set<Protocol> all = new HashSet<>();
        for (int n = 0; n <= 255; n++) {
            Protocol p = Protocol.of(n);
            assertThat(p.number()).isEqualTo(n);
            assertThat(Protocol.of(n)).isSameAs(p).isEqualTo(p).hasSameHashCodeAs(p);
            assertThat(p.hashCode()).isEqualTo(n);
            all.add(p);
        }
        assertThat(all).hasSize(256);
        assertThat(Protocol.TCP).isNotEqualTo(Protocol.UDP).isNotEqualTo(null).isNotEqualTo(6);
    }

    @ParameterizedTest
    @ValueSource(ints = {-1, 256, Integer.MIN_VALUE, Integer.MAX_VALUE})
    void rejectsNumbersOutsideTheByte(int number) {
        assertThatThrownBy(() -> Protocol.of(number))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("protocol number " + number + " is out of range 0..255");
    }
}
