package dev.skydeck.sqlite;

import dev.skydeck.spi.Store;
import dev.skydeck.testing.StoreContract;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;

/** {@link SqliteStore} against the {@link StoreContract}, on a real file per test. */
class SqliteStoreTest extends StoreContract {
    @TempDir
    Path dir;

    private Path file() {
        return dir.resolve("skydeck.db");
    }

    @Override
    protected Store newStore() {
        return SqliteStore.open(file());
    }

    @Override
    protected Store reopen() {
        return SqliteStore.open(file());
    }
}
