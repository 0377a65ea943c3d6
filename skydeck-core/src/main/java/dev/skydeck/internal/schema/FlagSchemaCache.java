package dev.skydeck.internal.schema;

import dev.skydeck.CommandLine;
import dev.skydeck.FlagSchema;
import dev.skydeck.SkyDeckException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * Caches flag schemas per tool path for a time-to-live, so the facade can ask for one on every
 * keystroke of the dashboard. A failure is cached too, for a shorter time, so a broken command is
 * not run again on every request; its exception is rethrown. Concurrent calls for one tool path
 * run the loader once. Thread-safe.
 */
public final class FlagSchemaCache {
    /** Default time-to-live of a schema. */
    public static final Duration DEFAULT_TTL = Duration.ofMinutes(5);
    /** Default time a command may run. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);
    private static final int MAX_ENTRIES = 512;

    private final Function<String, FlagSchema> loader;
    private final Duration ttl;
    private final Duration failureTtl;
    private final Clock clock;
    private final Map<String, Entry> entries = new ConcurrentHashMap<>();

    private static final class Entry {
        FlagSchema schema;
        SkyDeckException failure;
        Instant expires = Instant.MIN;
    }

    /**
     * @param loader     makes the schema of a tool path ({@code ""} for none)
     * @param ttl        how long a schema is kept
     * @param failureTtl how long a failure is kept
     * @param clock      the time source
     */
    public FlagSchemaCache(Function<String, FlagSchema> loader, Duration ttl, Duration failureTtl, Clock clock) {
        this.loader = Objects.requireNonNull(loader, "loader");
        this.ttl = positive("ttl", ttl);
        this.failureTtl = positive("failureTtl", failureTtl);
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    /** A cache over {@link FlagSchema#fromCommand}; failures are kept for a tenth of the TTL. */
    public static FlagSchemaCache forCommand(List<String> command, Duration timeout, Duration ttl, Clock clock) {
        List<String> argv = List.copyOf(command);
        return new FlagSchemaCache(tool -> FlagSchema.fromCommand(argv, tool.isEmpty() ? null : tool, timeout),
                ttl, ttl.dividedBy(10), clock);
    }

    /**
     * The schema of a tool path ({@code null} for none), from the cache while fresh.
     *
     * @throws SkyDeckException the loader's failure, while it is cached
     */
    public FlagSchema get(String toolPath) {
        String key = toolPath == null ? "" : toolPath;
        if (entries.size() >= MAX_ENTRIES && !entries.containsKey(key)) {
            Instant now = clock.instant();
            entries.values().removeIf(e -> !now.isBefore(e.expires));
            if (entries.size() >= MAX_ENTRIES) {
                entries.clear();
            }
        }
        Entry entry = entries.computeIfAbsent(key, k -> new Entry());
        synchronized (entry) {
            if (clock.instant().isBefore(entry.expires)) {
                if (entry.failure != null) {
                    throw entry.failure;
                }
                return entry.schema;
            }
            try {
                entry.schema = Objects.requireNonNull(loader.apply(key), "loader returned null");
                entry.failure = null;
                entry.expires = clock.instant().plus(ttl);
                return entry.schema;
            } catch (SkyDeckException e) {
                entry.schema = null;
                entry.failure = e;
                entry.expires = clock.instant().plus(failureTtl);
                throw e;
            }
        }
    }

    /** Forgets the schema of one tool path. */
    public void invalidate(String toolPath) {
        entries.remove(toolPath == null ? "" : toolPath);
    }

    /** Forgets every schema. */
    public void invalidateAll() {
        entries.clear();
    }

    private static Duration positive(String what, Duration d) {
        if (d == null || d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException(what + " must be positive, not " + d);
        }
        return d;
    }
}
