package dev.skydeck.jdbc.internal;

import dev.skydeck.ExperimentSpec;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Experiment specs as read in committed state, by experiment id, version and creation time, so
 * that reading 1,000 experiments again after one of them changed parses the spec columns (flags
 * JSON, validation) of that one only. Every store raises an experiment's version with each change
 * of its spec ({@code version = version + 1} in the one statement that writes spec columns), and
 * with the id and {@code created_at} the three name one spec of one experiment for good.
 *
 * <p>Only read transactions use it: they see committed rows alone. A write transaction can read
 * its own uncommitted version, which a rollback would take back and a later commit could give
 * another spec under the same number. At most {@link #MAX_SPECS} are kept (a list reads up to 10,000);
 * once that many are, only kept experiments' specs are replaced, so a longer read does not empty
 * the cache each time.
 */
final class SpecCache {
    /** The most specs kept. */
    static final int MAX_SPECS = 10_240;

    private record Kept(long version, long createdAt, ExperimentSpec spec) {
    }

    private final Map<Long, Kept> specs = new ConcurrentHashMap<>();

    /** The spec kept for experiment {@code id} at {@code version}, created at {@code createdAt}, or {@code null}. */
    ExperimentSpec get(long id, long version, long createdAt) {
        Kept k = specs.get(id);
        return k != null && k.version == version && k.createdAt == createdAt ? k.spec : null;
    }

    /** Keeps {@code spec} as experiment {@code id}'s at {@code version}. */
    void put(long id, long version, long createdAt, ExperimentSpec spec) {
        if (specs.size() < MAX_SPECS || specs.containsKey(id)) {
            specs.put(id, new Kept(version, createdAt, spec));
        }
    }
}
