package dev.skydeck.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The jshell script of the README, run by the real jshell: SPEC §9's snippet runs as written. */
class JshellScriptTest {
    @TempDir
    Path home;

    @Test
    void theSnippetRunsToTheEndAndItsFourNodeJobFailsWithAReason() throws IOException, InterruptedException {
        Path jshell = Path.of(System.getProperty("java.home"), "bin", "jshell");
        Path script = Path.of("jshell", "skydeck.jsh").toAbsolutePath();
        String classpath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        Path output = home.resolve("jshell.out");
        ProcessBuilder pb = new ProcessBuilder(List.of(jshell.toString(), "--class-path", classpath,
                script.toString()))
                .redirectErrorStream(true).redirectOutput(output.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        pb.environment().put("SKYDECK_HOME", home.toString());
        pb.environment().remove("SKYDECK_DB_PATH");
        pb.environment().remove("SKYDECK_BACKEND");
        pb.environment().remove("SKYPILOT_API_SERVER_ENDPOINT");
        Process p = pb.start();
        boolean ended = p.waitFor(3, TimeUnit.MINUTES);
        if (!ended) {
            p.destroyForcibly();
        }
        String out = Files.readString(output, StandardCharsets.UTF_8);
        assertThat(ended).as("jshell finished; output:%n%s", out).isTrue();
        assertThat(out).as(out).containsPattern("j-[0-9a-z]+-[0-9a-f]+ FAILED")
                .contains("asks for 4 nodes, but the local backend runs one node per job")
                .contains("ppo_4layer FAILED → RUNNING")
                .doesNotContain("Exception");
        assertThat(home.resolve("skydeck.db")).exists();
    }
}
