package dev.skydeck.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The single-experiment example tells its story: two failures under ON_FAILURE, then a fix and a restart that succeeds. */
class SingleExperimentTest {
    @TempDir
    Path home;

    @Test
    void aFailingRunIsRetriedByItsPolicyThenFixedAndRestartedByHand() throws Exception {
        String text = ExampleRun.run(home, SingleExperiment::main);
        assertThat(text).contains("settled: FAILED").contains("settled: SUCCEEDED");
        assertThat(text.lines().filter(l -> l.startsWith("job ")).toList()).as(text).hasSize(3)
                .anySatisfy(l -> assertThat(l).contains("attempt 3 generation 2: SUCCEEDED exit=0"));
    }
}
