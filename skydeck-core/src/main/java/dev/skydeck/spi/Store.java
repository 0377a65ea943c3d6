package dev.skydeck.spi;

import java.util.function.Function;

/**
 * Where SkyDeck keeps experiments, jobs, groups, checkpoints, events and settings.
 * Implementations: {@code dev.skydeck.memory.InMemoryStore} and {@code dev.skydeck.sqlite.SqliteStore}.
 * Every implementation passes the {@code StoreContract} suite of {@code dev.skydeck:skydeck-testing}.
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

    /**
     * Calls {@code listener} (quickly, on any thread) when another process may have committed to
     * this store, so that SkyDeck reads its event log again; a store shared between processes
     * through a server (PostgreSQL's {@code LISTEN}) implements it. The default never calls.
     */
    default dev.skydeck.Subscription onExternalCommit(Runnable listener) {
        return () -> { };
    }

    /** A short description for logs and health ({@code sqlite:/path/to.db}, {@code memory}). */
    String describe();

    /** Releases connections; idempotent. Use after close fails with a clear error. */
    @Override
    void close();
}
