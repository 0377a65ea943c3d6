package dev.skydeck.sqlite;

import dev.skydeck.spi.Store;
import dev.skydeck.spi.StoreProvider;
import java.nio.file.Path;

/** Makes {@link SqliteStore} the store {@code SkyDeck.open()} uses (found with {@link java.util.ServiceLoader}). */
public final class SqliteStoreProvider implements StoreProvider {
    /** Used by the service loader. */
    public SqliteStoreProvider() {
    }

    @Override
    public Store open(Path file) {
        return SqliteStore.open(file);
    }
}
