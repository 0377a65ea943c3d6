package dev.skydeck.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The single-experiment example tells its story: two failures under ON_FAILURE, then a fix and a restart that succeeds. */
class SingleExperimentTest {
    @TempDir
    Path home;

    private final PrintStream stdout = System.out;
    private final String previousHome = System.getProperty("skydeck.home");

    @AfterEach
    void restore() {
        System.setOut(stdout);
        if (previousHome == null) {
            System.clearProperty("skydeck.home");
        } else {
            System.setProperty("skydeck.home", previousHome);
        }
    }

    @Test
    void aFailingRunIsRetriedByItsPolicyThenFixedAndRestartedByHand() throws Exception {
        System.setProperty("skydeck.home", home.toString());
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        try {
            SingleExperiment.main(new String[0]);
        } finally {
            System.setOut(stdout);
        }
        String text = out.toString(StandardCharsets.UTF_8);
        assertThat(text).contains("settled: FAILED").contains("settled: SUCCEEDED");
        assertThat(text.lines().filter(l -> l.startsWith("job ")).toList()).as(text).hasSize(3)
                .anySatisfy(l -> assertThat(l).contains("attempt 3 generation 2: SUCCEEDED exit=0"));
    }
}
