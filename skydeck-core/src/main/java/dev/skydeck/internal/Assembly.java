package dev.skydeck.internal;

import dev.skydeck.SkyDeckConfig;
import dev.skydeck.SkyDeckException;
import dev.skydeck.SkyDeckHome;
import dev.skydeck.local.LocalBackend;
import dev.skydeck.local.LocalCheckpointSource;
import dev.skydeck.spi.BackendProvider;
import dev.skydeck.spi.CheckpointSource;
import dev.skydeck.spi.CheckpointSourceProvider;
import dev.skydeck.spi.ClusterBackend;
import dev.skydeck.spi.Store;
import dev.skydeck.spi.StoreProvider;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.ServiceLoader;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Chooses and opens what a SkyDeck was not given: the store (the SQLite file through its
 * {@link StoreProvider}), the backend ({@code local}, {@code auto}, or a {@link BackendProvider}'s
 * kind) and the checkpoint source, each with the reason it was chosen. What it opens it owns.
 *
 * @param store           the store
 * @param ownsStore       whether SkyDeck opened it (and closes it)
 * @param backend         the backend
 * @param ownsBackend     whether SkyDeck created it (and closes it)
 * @param backendReason   why this backend (shown by logs and health)
 * @param checkpoints     the checkpoint source
 */
public record Assembly(Store store, boolean ownsStore, ClusterBackend backend, boolean ownsBackend,
                       String backendReason, CheckpointSource checkpoints) {
    private static final Logger log = LoggerFactory.getLogger(Assembly.class);

    /**
     * Opens what is missing. On failure, closes what it opened and rethrows.
     *
     * @param store       the given store, or {@code null} to open {@link SkyDeckConfig#databaseUrl()}
     * @param backend     the given backend, or {@code null} to select {@link SkyDeckConfig#backend()}
     * @param checkpoints the given source, or {@code null} to select one for the backend
     */
    public static Assembly of(SkyDeckConfig config, Store store, ClusterBackend backend, CheckpointSource checkpoints) {
        dev.skydeck.Secrets.registerEnvironment(config.environment());
        boolean ownsStore = false;
        boolean ownsBackend = false;
        try {
            if (store == null) {
                store = openStore(config);
                ownsStore = true;
            }
            String reason = "given to the builder";
            if (backend == null) {
                Map.Entry<ClusterBackend, String> chosen = selectBackend(config, store);
                backend = chosen.getKey();
                reason = chosen.getValue();
                ownsBackend = true;
            }
            if (checkpoints == null) {
                checkpoints = selectCheckpoints(config, backend);
            }
            return new Assembly(store, ownsStore, backend, ownsBackend, reason, checkpoints);
        } catch (RuntimeException e) {
            if (ownsBackend) {
                backend.close();
            }
            if (ownsStore) {
                store.close();
            }
            throw e;
        }
    }

    private static Store openStore(SkyDeckConfig config) {
        String url = config.databaseUrl();
        for (StoreProvider p : ServiceLoader.load(StoreProvider.class)) {
            if (p.accepts(url)) {
                return p.open(url, config);
            }
        }
        String module = url.startsWith("jdbc:postgresql:") ? "dev.skydeck:skydeck-postgres"
                : url.startsWith("jdbc:sqlite:") ? "dev.skydeck:skydeck-sqlite" : null;
        throw new SkyDeckException("no store on the classpath opens " + SkyDeckConfig.withoutParameters(url)
                + (module == null ? ": use jdbc:sqlite:<file> or jdbc:postgresql://host:port/database"
                : ": add the " + module + " dependency") + ", or pass .store(new InMemoryStore())");
    }

    private static ClusterBackend local(SkyDeckConfig config, Store store) {
        return LocalBackend.builder().jobsDirectory(SkyDeckHome.localJobs(config.home(), store.describe()))
                .checkpointDirectory(SkyDeckHome.localCheckpoints(config.home()))
                .environment(config.environment().isEmpty() ? System.getenv() : config.environment()).build();
    }

    private static Map.Entry<ClusterBackend, String> selectBackend(SkyDeckConfig config, Store store) {
        String name = config.backend();
        Map<String, BackendProvider> providers = new LinkedHashMap<>();
        for (BackendProvider p : ServiceLoader.load(BackendProvider.class)) {
            providers.put(p.kind(), p);
        }
        switch (name) {
            case "local":
                return Map.entry(local(config, store), "selected by " + config.backendChosenBy());
            case "auto":
                for (BackendProvider p : providers.values()) {
                    Optional<String> why = p.detect(config);
                    if (why.isPresent()) {
                        return Map.entry(p.create(config), "auto: " + why.get());
                    }
                }
                return Map.entry(local(config, store), "auto: no SkyPilot API server configured (SKYPILOT_API_SERVER_ENDPOINT"
                        + " or ~/.sky/config.yaml), so jobs run as local processes");
            default:
                BackendProvider p = providers.get(name);
                if (p == null) {
                    throw Validate.invalid(config.backendChosenBy() + "=" + name + " is not allowed: use local, auto"
                            + (providers.isEmpty() ? "" : ", " + String.join(", ", providers.keySet()))
                            + (name.equals("skypilot") ? " (skypilot needs dev.skydeck:skydeck-skypilot on the classpath)"
                            : ""));
                }
                return Map.entry(p.create(config), "selected by " + config.backendChosenBy());
        }
    }

    private static CheckpointSource selectCheckpoints(SkyDeckConfig config, ClusterBackend backend) {
        for (CheckpointSourceProvider p : ServiceLoader.load(CheckpointSourceProvider.class)) {
            Optional<String> why = p.detect(backend.kind(), config);
            if (why.isPresent()) {
                CheckpointSource source = p.create(config);
                log.info("Checkpoints from {} ({})", source.describe(), why.get());
                return source;
            }
        }
        return backend instanceof LocalBackend
                ? new LocalCheckpointSource(SkyDeckHome.localCheckpoints(config.home())) : CheckpointSource.NONE;
    }

    /** Closes what was opened here (the backend, then the store); checkpoints always (SkyDeck owns its source's clients). */
    public void close() {
        if (ownsBackend) {
            backend.close();
        }
        checkpoints.close();
        if (ownsStore) {
            store.close();
        }
    }
}
