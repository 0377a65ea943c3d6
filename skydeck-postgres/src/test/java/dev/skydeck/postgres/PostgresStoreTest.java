package dev.skydeck.postgres;

import dev.skydeck.spi.Store;
import dev.skydeck.testing.StoreContract;

/** {@link PostgresStore} against the {@link StoreContract}, on a real PostgreSQL server, a fresh database per test. */
class PostgresStoreTest extends StoreContract {
    private String url;

    @Override
    protected Store newStore() {
        url = EmbeddedPg.newDatabase();
        return PostgresStore.open(url);
    }

    @Override
    protected Store reopen() {
        return PostgresStore.open(url);
    }

    @Override
    protected boolean leasesUseTheStoresClock() {
        return true;
    }
}
