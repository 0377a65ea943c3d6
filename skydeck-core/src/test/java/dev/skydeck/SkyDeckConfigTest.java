package dev.skydeck;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Settings: defaults read nothing, the environment is read only when given, bad values name their variable. */
class SkyDeckConfigTest {
    @Test
    void theDefaultsReadNoEnvironment() {
        SkyDeckConfig d = SkyDeckConfig.defaults();
        assertThat(d.environment()).isEmpty();
        assertThat(d.backend()).isEqualTo("auto");
        assertThat(d.pollInterval()).isEqualTo(Duration.ofSeconds(30));
        assertThat(d.reconcileInterval()).isEqualTo(Duration.ofSeconds(60));
        assertThat(d.maxGpus()).isZero();
        assertThat(d.databaseFile()).isEqualTo(d.home().resolve("skydeck.db"));
    }

    @Test
    void theEnvironmentGivenIsReadAndKeptForProviders() {
        Map<String, String> env = Map.of("SKYDECK_POLL_INTERVAL", "7", "SKYDECK_RECONCILE_INTERVAL", "11",
                "SKYDECK_SYNC_INTERVAL", "13", "SKYDECK_BACKEND", "Local", "SKYDECK_DB_PATH", "/tmp/x.db",
                "SKYDECK_MAX_GPUS", "16", "SKYDECK_MAX_CONCURRENT_LAUNCHES", "4",
                "SKYDECK_FLAG_SCHEMA_COMMAND", "python3 'schema tool.py'", "SKYPILOT_API_SERVER_ENDPOINT", "http://sky");
        SkyDeckConfig c = SkyDeckConfig.fromEnvironment(env);
        assertThat(c.pollInterval()).isEqualTo(Duration.ofSeconds(7));
        assertThat(c.reconcileInterval()).isEqualTo(Duration.ofSeconds(11));
        assertThat(c.syncInterval()).isEqualTo(Duration.ofSeconds(13));
        assertThat(c.backend()).isEqualTo("local");
        assertThat(c.backendChosenBy()).isEqualTo("SKYDECK_BACKEND");
        assertThat(c.databaseFile()).isEqualTo(Path.of("/tmp/x.db"));
        assertThat(c.maxGpus()).isEqualTo(16);
        assertThat(c.maxConcurrentLaunches()).isEqualTo(4);
        assertThat(c.flagSchemaCommand()).containsExactly("python3", "schema tool.py");
        assertThat(c.environment()).containsEntry("SKYPILOT_API_SERVER_ENDPOINT", "http://sky");
        assertThat(c.toBuilder().maxGpus(2).build().pollInterval()).isEqualTo(Duration.ofSeconds(7));
    }

    @Test
    void aBadValueIsRefusedNamingItsVariable() {
        for (Map.Entry<String, String> bad : List.of(Map.entry("SKYDECK_POLL_INTERVAL", "soon"),
                Map.entry("SKYDECK_POLL_INTERVAL", "0"), Map.entry("SKYDECK_MAX_GPUS", "-1"),
                Map.entry("SKYDECK_BACKEND", "s3 me"), Map.entry("SKYDECK_FLAG_SCHEMA_COMMAND", "tool 'open"))) {
            assertThatThrownBy(() -> SkyDeckConfig.fromEnvironment(Map.of(bad.getKey(), bad.getValue())))
                    .isInstanceOf(SkyDeckException.InvalidInput.class).hasMessageContaining(bad.getKey());
        }
    }

    @Test
    void theVersionComesFromTheBuild() {
        assertThat(SkyDeck.VERSION).matches("\\d+\\.\\d+\\.\\d+(-SNAPSHOT)?");
    }
}
