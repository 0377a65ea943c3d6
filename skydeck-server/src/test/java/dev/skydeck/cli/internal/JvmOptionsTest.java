package dev.skydeck.cli.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The server's JVM options: one list for `skydeck start`, the launcher script and the bounded child. */
class JvmOptionsTest {
    @TempDir
    Path home;

    @Test
    void theLauncherScriptGivesServeTheSameOptionsAsSkydeckStart() throws Exception {
        Path script = Path.of("../skydeck");
        String text = Files.readString(script);
        Matcher m = Pattern.compile("serve\\|demo\\)[\\s\\S]*?opts=\\(([^)]*)\\)").matcher(text);
        assertThat(m.find()).isTrue();
        List<String> launcher = Arrays.asList(m.group(1).strip().split("\\s+"));
        assertThat(launcher).containsExactlyElementsOf(JvmOptions.SERVER);
    }

    @Test
    void aHeapLimitIsRecognisedInAnyOfItsSpellings() {
        assertThat(JvmOptions.boundsHeap(List.of("-Xmx1g"))).isTrue();
        assertThat(JvmOptions.boundsHeap(List.of("-XX:MaxHeapSize=512m"))).isTrue();
        assertThat(JvmOptions.boundsHeap(List.of("-XX:MaxRAMPercentage=10"))).isTrue();
        assertThat(JvmOptions.boundsHeap(List.of("-XX:TieredStopAtLevel=1", "-Dfoo=bar"))).isFalse();
    }

    @Test
    void theChildKeepsTheUsersOwnOptionsOverTheBoundedOnes() throws Exception {
        Path jar = Files.createFile(home.resolve("skydeck.jar"));
        List<String> cmd = JvmOptions.childCommand("/usr/bin/java",
                List.of("-XX:+UseParallelGC", "-Xss1m", "-Dx=y"), home, jar.toString(), new String[] {"serve", "--port", "9"});
        assertThat(cmd.get(0)).isEqualTo("/usr/bin/java");
        assertThat(cmd).contains("-Xmx256m", "-XX:CICompilerCount=2", "-XX:+UseParallelGC", "-Xss1m", "-Dx=y")
                .doesNotContain("-XX:+UseSerialGC", "-Xss256k");
        assertThat(cmd.stream().filter(a -> a.startsWith("-XX:ArchiveClassesAtExit=")).count()).isEqualTo(1);
        assertThat(cmd.subList(cmd.size() - 6, cmd.size()))
                .containsExactly("-cp", jar.toString(), "dev.skydeck.cli.Main", "serve", "--port", "9");
    }
}
