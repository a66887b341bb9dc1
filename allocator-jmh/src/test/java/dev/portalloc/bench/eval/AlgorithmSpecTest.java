package dev.portalloc.bench.eval;

import dev.portalloc.Algorithm;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class AlgorithmSpecTest {
    @Test
    void parsesNamesAndParameters() {
        assertThat(AlgorithmSpec.parseList("uniform, linux,doubleHash:1024,randomIncrements:500,DOUBLEHASH"))
            .extracting(AlgorithmSpec::algorithm)
            .containsExactly(Algorithm.uniform(), Algorithm.linux(), Algorithm.doubleHash(1024),
                Algorithm.randomIncrements(500), Algorithm.doubleHash());
        assertThat(AlgorithmSpec.parse("doubleHash:256").label()).isEqualTo("doubleHash:256");
        assertThat(AlgorithmSpec.parse("doubleHash:256").tableLength()).isEqualTo(256);
        assertThat(AlgorithmSpec.parse("linux").hasPerturbationTable()).isTrue();
        assertThat(AlgorithmSpec.parse("uniform").hasPerturbationTable()).isFalse();
    }

    @Test
    void badInputNamesTheValueAndTheRange() {
        assertThatThrownBy(() -> AlgorithmSpec.parse("fancy"))
            .hasMessageContaining("'fancy'").hasMessageContaining("uniform");
        assertThatThrownBy(() -> AlgorithmSpec.parse("doubleHash:0"))
            .hasMessageContaining("0").hasMessageContaining("1.." + Algorithm.MAX_TABLE_LENGTH);
        assertThatThrownBy(() -> AlgorithmSpec.parse("randomIncrements:x"))
            .hasMessageContaining("'x'").hasMessageContaining("whole number");
        assertThatThrownBy(() -> AlgorithmSpec.parse("uniform:3")).hasMessageContaining("takes no parameter");
        assertThatThrownBy(() -> AlgorithmSpec.parseList("uniform,,linux")).hasMessageContaining("empty algorithm");
    }
}
