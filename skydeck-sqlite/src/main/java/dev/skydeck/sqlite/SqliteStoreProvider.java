package dev.skydeck.sqlite;

import dev.skydeck.SkyDeckConfig;
import dev.skydeck.spi.Store;
import dev.skydeck.spi.StoreProvider;
import java.nio.file.Path;

/** Opens a {@link SqliteStore} for {@code jdbc:sqlite:} URLs: the default, {@code <home>/skydeck.db}. */
public final class SqliteStoreProvider implements StoreProvider {
    private static final String PREFIX = "jdbc:sqlite:";

    /** Used by the service loader. */
    public SqliteStoreProvider() {
    }

    @Override
    public boolean accepts(String url) {
        return url != null && url.startsWith(PREFIX) && url.length() > PREFIX.length();
    }

    @Override
    public Store open(String url, SkyDeckConfig config) {
        return SqliteStore.open(Path.of(url.substring(PREFIX.length())));
    }
}
