package dev.skydeck.examples;

import static org.assertj.core.api.Assertions.assertThat;

import dev.skydeck.testing.NoThreadLeaks;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** The README's "run it" example, in a fresh SkyDeck home: 8 real processes, a table of results. */
@ExtendWith(NoThreadLeaks.class)
class GridSearchTest {
    @TempDir
    Path home;

    private String run(String... args) throws Exception {
        return ExampleRun.run(home, GridSearch::main, args);
    }

    @Test
    void theGridRunsToCompletionAgainChangesNothingAndRestartRunsItAnew() throws Exception {
        String first = run();
        List<String> rows = Arrays.stream(first.split("\n")).filter(l -> l.startsWith("grid.")).toList();
        assertThat(rows).as(first).hasSize(8).allSatisfy(row -> assertThat(row)
                .containsPattern("SUCCEEDED\\s+\\d+\\s+1×[12] GPU\\s+0\\s+5\\s+j-"));
        assertThat(first).contains("on the local backend");

        assertThat(first).contains("8 created, 0 updated, 0 unchanged");

        String second = run();
        List<String> same = Arrays.stream(second.split("\n")).filter(l -> l.startsWith("grid.")).toList();
        assertThat(second).contains("0 created, 0 updated, 8 unchanged");
        assertThat(same).containsExactlyElementsOf(rows); // applied twice: nothing new was launched

        String third = run("--restart");
        List<String> again = Arrays.stream(third.split("\n")).filter(l -> l.startsWith("grid.")).toList();
        assertThat(again).hasSize(8).allSatisfy(row -> assertThat(row).contains("SUCCEEDED"));
        assertThat(again).doesNotContainAnyElementsOf(rows); // each row names a new job
    }
}
