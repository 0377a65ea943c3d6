package dev.skydeck.schema;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.skydeck.FlagSchema;
import dev.skydeck.FlagSpec;
import dev.skydeck.FlagType;
import dev.skydeck.SkyDeckException;
import dev.skydeck.internal.schema.FlagSchemaCache;
import dev.skydeck.SkyDeckConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FlagSchemaCacheTest {
    /** A clock the test moves by hand. */
    static final class MovableClock extends java.time.Clock {
        private Instant now;

        MovableClock(Instant start) {
            this.now = start;
        }

        void advance(Duration d) {
            now = now.plus(d);
        }

        @Override
        public Instant instant() {
            return now;
        }

        @Override
        public java.time.ZoneId getZone() {
            return java.time.ZoneOffset.UTC;
        }

        @Override
        public java.time.Clock withZone(java.time.ZoneId zone) {
            return this;
        }
    }

    private final MovableClock clock = new MovableClock(Instant.parse("2026-01-01T00:00:00Z"));
    private final List<String> calls = new ArrayList<>();
    private final AtomicReference<RuntimeException> failure = new AtomicReference<>();

    private FlagSchema load(String tool) {
        calls.add(tool);
        if (failure.get() != null) {
            throw failure.get();
        }
        return FlagSchema.of(List.of(FlagSpec.declared("v" + calls.size(), FlagType.INT)));
    }

    private final FlagSchemaCache cache =
            new FlagSchemaCache(this::load, Duration.ofMinutes(5), Duration.ofSeconds(30), clock);

    @Test
    void keepsASchemaPerToolPathUntilItsTtlEnds() {
        FlagSchema first = cache.get("a");
        clock.advance(Duration.ofMinutes(4));
        assertThat(cache.get("a")).isSameAs(first);
        assertThat(cache.get("b")).isNotEqualTo(first);
        assertThat(cache.get(null)).isNotNull();
        assertThat(calls).containsExactly("a", "b", "");
        clock.advance(Duration.ofMinutes(1));
        assertThat(cache.get("a")).isNotEqualTo(first);
        assertThat(calls).containsExactly("a", "b", "", "a");
    }

    @Test
    void keepsAFailureForTheShorterFailureTtl() {
        failure.set(new SkyDeckException("boom"));
        assertThatThrownBy(() -> cache.get("a")).hasMessage("boom");
        assertThatThrownBy(() -> cache.get("a")).hasMessage("boom");
        assertThat(calls).hasSize(1);
        failure.set(null);
        clock.advance(Duration.ofSeconds(30));
        assertThat(cache.get("a").get("v2")).isPresent();
        assertThat(calls).hasSize(2);
    }

    @Test
    void invalidateForgets() {
        cache.get("a");
        cache.invalidate("a");
        cache.get("a");
        cache.invalidateAll();
        cache.get("a");
        assertThat(calls).containsExactly("a", "a", "a");
    }

    @Test
    void isOffWithoutTheEnvironmentVariable() {
        assertThat(SkyDeckConfig.fromEnvironment(Map.of()).flagSchemaCommand()).isNull();
        assertThat(SkyDeckConfig.fromEnvironment(Map.of("SKYDECK_FLAG_SCHEMA_COMMAND", "  ")).flagSchemaCommand())
                .isNull();
        assertThatThrownBy(() -> SkyDeckConfig.fromEnvironment(Map.of("SKYDECK_FLAG_SCHEMA_COMMAND", "x 'y")))
                .isInstanceOf(SkyDeckException.InvalidInput.class).hasMessageContaining("SKYDECK_FLAG_SCHEMA_COMMAND");
    }

    @Test
    void runsTheConfiguredCommandOncePerTtl(@TempDir Path tmp) throws Exception {
        Path script = tmp.resolve("schema command.sh");
        Path log = tmp.resolve("runs");
        Files.writeString(script, "echo \"$1\" >> '" + log + "'\n"
                + "echo '{\"schema\": {\"lr\": {\"type\": \"float\", \"default\": 0.1}}}'\n");
        String command = "/bin/sh '" + script + "'";
        FlagSchemaCache real = FlagSchemaCache.forCommand(SkyDeckConfig.fromEnvironment(
                Map.of("SKYDECK_FLAG_SCHEMA_COMMAND", command)).flagSchemaCommand(), FlagSchemaCache.DEFAULT_TIMEOUT,
                FlagSchemaCache.DEFAULT_TTL, clock);
        assertThat(real.get("recipes.train").get("lr").orElseThrow().defaultValue()).isEqualTo(0.1);
        real.get("recipes.train");
        assertThat(Files.readAllLines(log)).containsExactly("recipes.train");
        clock.advance(FlagSchemaCache.DEFAULT_TTL);
        real.get("recipes.train");
        assertThat(Files.readAllLines(log)).containsExactly("recipes.train", "recipes.train");
    }
}
