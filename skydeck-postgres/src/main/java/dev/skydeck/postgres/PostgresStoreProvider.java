package dev.skydeck.postgres;

import dev.skydeck.SkyDeckConfig;
import dev.skydeck.spi.Store;
import dev.skydeck.spi.StoreProvider;

/** Opens a {@link PostgresStore} for {@code jdbc:postgresql:} URLs ({@code SKYDECK_DB_URL}, {@code --db-url}). */
public final class PostgresStoreProvider implements StoreProvider {
    /** Used by the service loader. */
    public PostgresStoreProvider() {
    }

    @Override
    public boolean accepts(String url) {
        return PostgresStore.accepts(url);
    }

    @Override
    public Store open(String url, SkyDeckConfig config) {
        return PostgresStore.builder(url).environment(config.environment()).open();
    }
}
