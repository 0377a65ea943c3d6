package dev.skydeck.spi;

import java.util.function.Function;

/**
 * Where SkyDeck keeps experiments, jobs, groups, checkpoints, events and settings.
 * Implementations: {@link InMemoryStore} and {@code dev.skydeck.sqlite.SqliteStore}. Every
 * implementation passes the {@code StoreContract} test suite shipped in core's test-jar.
 *
 * <p>Writes happen inside {@link #write}, serialised with every other write to the same data
 * (including other processes, for a shared database) and never failing because another writer
 * is busy. Reads outside a transaction see committed data.
 */
public interface Store extends StoreReads, AutoCloseable {
    /**
     * Runs {@code work} in one transaction: all its writes commit together, or none does if it
     * throws (the exception is rethrown).
     */
    <T> T write(Function<StoreTx, T> work);

    /** A short description for logs and health ({@code sqlite:/path/to.db}, {@code memory}). */
    String describe();

    /** Releases connections; idempotent. Use after close fails with a clear error. */
    @Override
    void close();
}
