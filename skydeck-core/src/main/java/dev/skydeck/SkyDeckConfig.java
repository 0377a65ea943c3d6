package dev.skydeck;

import dev.skydeck.internal.Validate;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * SkyDeck's settings: validated when built, then frozen. {@link #defaults()} reads nothing from
 * the process; {@link #fromEnvironment(Map)} reads the {@code SKYDECK_*} variables of the map it is
 * given (a bad value is refused with a message naming the variable).
 *
 * <pre>{@code
 * SkyDeckConfig config = SkyDeckConfig.fromEnvironment(System.getenv()).toBuilder()
 *         .maxGpus(8)
 *         .build();
 * try (SkyDeck deck = SkyDeck.builder().config(config).build()) { … }
 * }</pre>
 *
 * <table>
 * <caption>Environment variables</caption>
 * <tr><td>{@code SKYDECK_HOME}</td><td>{@link #home()}</td></tr>
 * <tr><td>{@code SKYDECK_DB_PATH}</td><td>{@link #databaseFile()}</td></tr>
 * <tr><td>{@code SKYDECK_DB_URL}</td><td>{@link #databaseUrl()} ({@code jdbc:postgresql://…} for a shared deck)</td></tr>
 * <tr><td>{@code SKYDECK_USER}</td><td>{@link #user()}</td></tr>
 * <tr><td>{@code SKYDECK_BACKEND}</td><td>{@link #backend()}</td></tr>
 * <tr><td>{@code SKYDECK_RECONCILE_INTERVAL}, {@code SKYDECK_POLL_INTERVAL}, {@code SKYDECK_SYNC_INTERVAL}</td>
 *     <td>seconds</td></tr>
 * <tr><td>{@code SKYDECK_MAX_CONCURRENT_LAUNCHES}, {@code SKYDECK_MAX_GPUS}</td><td>the launch queue's limits</td></tr>
 * <tr><td>{@code SKYDECK_FLAG_SCHEMA_COMMAND}</td><td>{@link #flagSchemaCommand()}</td></tr>
 * </table>
 */
public final class SkyDeckConfig {
    private static final SkyDeckConfig DEFAULTS = new Builder().build();

    private final Path home;
    private final Path databaseFile;
    private final String databaseUrl;
    private final String user;
    private final Duration leaseTtl;
    private final String backend;
    private final String backendChosenBy;
    private final Duration reconcileInterval;
    private final Duration pollInterval;
    private final Duration fastPollInterval;
    private final Duration syncInterval;
    private final Duration fullListingInterval;
    private final int reconcilerThreads;
    private final int maxConcurrentLaunches;
    private final int maxGpus;
    private final Duration launchLease;
    private final Duration retryBase;
    private final Duration retryCap;
    private final Duration vanishedGrace;
    private final Duration cancelRetry;
    private final int cancelAttempts;
    private final List<String> flagSchemaCommand;
    private final Map<String, String> environment;

    private SkyDeckConfig(Builder b) {
        this.home = b.home != null ? b.home : SkyDeckHome.dir(Map.of());
        this.databaseFile = b.databaseFile != null ? b.databaseFile : SkyDeckHome.database(home);
        this.databaseUrl = b.databaseUrl == null ? null : databaseUrl(b.databaseUrl);
        this.user = b.user == null ? null : Validate.userName(b.user);
        this.leaseTtl = positive("lease time", b.leaseTtl);
        this.backend = backendName(b.backend);
        this.backendChosenBy = Objects.requireNonNull(b.backendChosenBy, "backendChosenBy");
        this.reconcileInterval = positive("reconcile interval", b.reconcileInterval);
        this.pollInterval = positive("poll interval", b.pollInterval);
        this.fastPollInterval = positive("fast poll interval", b.fastPollInterval);
        this.syncInterval = positive("sync interval", b.syncInterval);
        this.fullListingInterval = positive("full listing interval", b.fullListingInterval);
        this.reconcilerThreads = Validate.range("reconciler threads", b.reconcilerThreads, 1, 64);
        this.maxConcurrentLaunches = Validate.range("max concurrent launches", b.maxConcurrentLaunches, 0, 100_000);
        this.maxGpus = Validate.range("max GPUs", b.maxGpus, 0, 1_000_000);
        this.launchLease = positive("launch lease", b.launchLease);
        this.retryBase = positive("retry base", b.retryBase);
        this.retryCap = positive("retry cap", b.retryCap);
        this.vanishedGrace = positive("vanished grace", b.vanishedGrace);
        this.cancelRetry = positive("cancel retry", b.cancelRetry);
        this.cancelAttempts = Validate.range("cancel attempts", b.cancelAttempts, 1, 100);
        this.flagSchemaCommand = b.flagSchemaCommand == null ? null : List.copyOf(b.flagSchemaCommand);
        this.environment = Map.copyOf(b.environment);
    }

    /** Every default, and an empty environment: nothing is read from the process. */
    public static SkyDeckConfig defaults() {
        return DEFAULTS;
    }

    /** A builder starting from the defaults. */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * The defaults overridden by the {@code SKYDECK_*} variables in {@code env}; {@code env} is also
     * what backend and checkpoint providers read ({@code SKYPILOT_*}, {@code SKYDECK_S3_*}, AWS).
     *
     * @throws SkyDeckException.InvalidInput naming the first variable whose value is not allowed
     */
    public static SkyDeckConfig fromEnvironment(Map<String, String> env) {
        Builder b = new Builder().environment(env);
        b.home(SkyDeckHome.dir(env));
        text(env, "SKYDECK_DB_PATH", v -> b.databaseFile(Path.of(v)));
        text(env, "SKYDECK_DB_URL", v -> {
            try {
                b.databaseUrl(databaseUrl(v));
            } catch (SkyDeckException.InvalidInput e) {
                throw Validate.invalid("SKYDECK_DB_URL=" + withoutParameters(v) + " is not allowed: use"
                        + " jdbc:postgresql://host:port/database or jdbc:sqlite:<file>");
            }
        });
        text(env, "SKYDECK_USER", v -> {
            try {
                b.user(Validate.userName(v));
            } catch (SkyDeckException.InvalidInput e) {
                throw Validate.invalid("SKYDECK_USER=" + v + " is not allowed: " + e.getMessage());
            }
        });
        text(env, "SKYDECK_BACKEND", v -> {
            try {
                b.backend(backendName(v), "SKYDECK_BACKEND");
            } catch (SkyDeckException.InvalidInput e) {
                throw Validate.invalid("SKYDECK_BACKEND=" + v + " is not allowed: use local, skypilot or auto");
            }
        });
        seconds(env, "SKYDECK_RECONCILE_INTERVAL", b::reconcileInterval);
        seconds(env, "SKYDECK_POLL_INTERVAL", b::pollInterval);
        seconds(env, "SKYDECK_SYNC_INTERVAL", b::syncInterval);
        count(env, "SKYDECK_MAX_CONCURRENT_LAUNCHES", b::maxConcurrentLaunches);
        count(env, "SKYDECK_MAX_GPUS", b::maxGpus);
        text(env, "SKYDECK_FLAG_SCHEMA_COMMAND", v -> {
            try {
                b.flagSchemaCommand(CommandLine.split(v));
            } catch (SkyDeckException.InvalidInput e) {
                throw Validate.invalid("SKYDECK_FLAG_SCHEMA_COMMAND=" + v + " is not allowed: " + e.getMessage());
            }
        });
        return b.build();
    }

    private static void text(Map<String, String> env, String name, Consumer<String> set) {
        String v = env.get(name);
        if (v != null && !v.isBlank()) {
            set.accept(v.strip());
        }
    }

    private static void seconds(Map<String, String> env, String name, Consumer<Duration> set) {
        text(env, name, v -> set.accept(Duration.ofSeconds(number(name, v, 1, 86_400 * 7L, "seconds"))));
    }

    private static void count(Map<String, String> env, String name, Consumer<Integer> set) {
        text(env, name, v -> set.accept((int) number(name, v, 0, 1_000_000, "count (0 is no limit)")));
    }

    private static long number(String name, String v, long min, long max, String what) {
        try {
            long n = Long.parseLong(v);
            if (n >= min && n <= max) {
                return n;
            }
        } catch (NumberFormatException e) {
            // the message below says what is allowed
        }
        throw Validate.invalid(name + "=" + v + " is not allowed: use a whole number of " + what + " from " + min
                + " to " + max);
    }

    private static String databaseUrl(String url) {
        String u = url.strip();
        if (!u.matches("jdbc:[a-z][a-z0-9]*:.+") || u.chars().anyMatch(Character::isISOControl)) {
            throw Validate.invalid("database URL '" + withoutParameters(u) + "' is not allowed: use"
                    + " jdbc:postgresql://host:port/database or jdbc:sqlite:<file>");
        }
        return u;
    }

    /**
     * A database URL for messages and logs: without its parameters and any {@code user:password@}
     * part, where credentials may be.
     */
    public static String withoutParameters(String url) {
        if (url == null) {
            return "(none)";
        }
        String s = url;
        int q = s.indexOf('?');
        if (q >= 0) {
            s = s.substring(0, q);
        }
        int slash = s.indexOf("//");
        int at = s.indexOf('@');
        if (slash >= 0 && at > slash) {
            s = s.substring(0, slash + 2) + s.substring(at + 1);
        }
        return s;
    }

    private static String backendName(String name) {
        String n = name == null || name.isBlank() ? "auto" : name.strip().toLowerCase(Locale.ROOT);
        if (!n.matches("[a-z][a-z0-9_-]{0,31}")) {
            throw Validate.invalid("backend '" + name + "' is not allowed: use local, skypilot or auto");
        }
        return n;
    }

    private static Duration positive(String what, Duration d) {
        if (d == null || d.isNegative() || d.isZero()) {
            throw Validate.invalid(what + " " + d + " is not allowed: use a positive duration");
        }
        return d;
    }

    /** A builder holding these settings, to change some. */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.home = home;
        b.databaseFile = databaseFile;
        b.databaseUrl = databaseUrl;
        b.user = user;
        b.leaseTtl = leaseTtl;
        b.backend = backend;
        b.backendChosenBy = backendChosenBy;
        b.reconcileInterval = reconcileInterval;
        b.pollInterval = pollInterval;
        b.fastPollInterval = fastPollInterval;
        b.syncInterval = syncInterval;
        b.fullListingInterval = fullListingInterval;
        b.reconcilerThreads = reconcilerThreads;
        b.maxConcurrentLaunches = maxConcurrentLaunches;
        b.maxGpus = maxGpus;
        b.launchLease = launchLease;
        b.retryBase = retryBase;
        b.retryCap = retryCap;
        b.vanishedGrace = vanishedGrace;
        b.cancelRetry = cancelRetry;
        b.cancelAttempts = cancelAttempts;
        b.flagSchemaCommand = flagSchemaCommand;
        b.environment = environment;
        return b;
    }

    /** SkyDeck's directory (local jobs, checkpoints, pid and log files). */
    public Path home() {
        return home;
    }

    /**
     * The database {@code SkyDeck.open()} opens when no store is given, as a JDBC URL:
     * {@code SKYDECK_DB_URL} ({@code jdbc:postgresql://host:port/database}), else
     * {@code jdbc:sqlite:} and {@link #databaseFile()}. It may hold credentials: log it through
     * {@link #withoutParameters}.
     */
    public String databaseUrl() {
        return databaseUrl != null ? databaseUrl : "jdbc:sqlite:" + databaseFile.toAbsolutePath().normalize();
    }

    /** Whether {@link #databaseUrl()} was set ({@code SKYDECK_DB_URL}, {@code --db-url}) rather than derived from the file. */
    public boolean databaseUrlSet() {
        return databaseUrl != null;
    }

    /**
     * The user this deck acts as ({@code SKYDECK_USER}): the creator of its experiments, the
     * launcher of their jobs and the actor of its events; {@code null} (the default) for a
     * single-user deck. The server acts as each request's user instead.
     */
    public String user() {
        return user;
    }

    /**
     * How long the lease that lets one process reconcile, poll and sync lasts unless renewed
     * (default 10 s; renewed every third of it): when that process dies, another takes over
     * within about this time.
     */
    public Duration leaseTtl() {
        return leaseTtl;
    }

    /** The SQLite file {@code SkyDeck.open()} uses when no store is given: default {@code <home>/skydeck.db}. */
    public Path databaseFile() {
        return databaseFile;
    }

    /** The backend by name: {@code local}, {@code auto} (default) or a provider's kind such as {@code skypilot}. */
    public String backend() {
        return backend;
    }

    /** Who chose {@link #backend()} ({@code SKYDECK_BACKEND}, {@code --backend}, …), for logs and health. */
    public String backendChosenBy() {
        return backendChosenBy;
    }

    /** How often every experiment is reconciled again, whatever happened (default 60 s). */
    public Duration reconcileInterval() {
        return reconcileInterval;
    }

    /** Poll interval when nothing changes (default 30 s). */
    public Duration pollInterval() {
        return pollInterval;
    }

    /** Poll interval while jobs launch or change (default 5 s). */
    public Duration fastPollInterval() {
        return fastPollInterval;
    }

    /** Checkpoint sync interval (default 60 s). */
    public Duration syncInterval() {
        return syncInterval;
    }

    /**
     * How often a poll lists every job the backend knows (default 10 min); the polls in between
     * list only unfinished jobs and ask for the few SkyDeck holds active that those leave out.
     */
    public Duration fullListingInterval() {
        return fullListingInterval;
    }

    /** Reconcile threads (default 4). */
    public int reconcilerThreads() {
        return reconcilerThreads;
    }

    /** Launches in progress at once; 0 (default) is no limit. */
    public int maxConcurrentLaunches() {
        return maxConcurrentLaunches;
    }

    /** GPUs in use at once across all jobs; 0 (default) is no limit. */
    public int maxGpus() {
        return maxGpus;
    }

    /** How long a launch recorded by another process is left alone before it is adopted or resubmitted (2 min). */
    public Duration launchLease() {
        return launchLease;
    }

    /** The first backoff bound for retryable backend failures (5 s). */
    public Duration retryBase() {
        return retryBase;
    }

    /** The backoff cap for retryable backend failures (5 min). */
    public Duration retryCap() {
        return retryCap;
    }

    /** How long a job the backend stopped listing stays UNKNOWN before it is FAILED (10 min). */
    public Duration vanishedGrace() {
        return vanishedGrace;
    }

    /** How long after a cancel that did not take it is sent again (2 min). */
    public Duration cancelRetry() {
        return cancelRetry;
    }

    /** How many times a cancel is sent before SkyDeck says it did not take and stops sending (3). */
    public int cancelAttempts() {
        return cancelAttempts;
    }

    /** The operator's flag schema command (run without a shell), or {@code null}. */
    public List<String> flagSchemaCommand() {
        return flagSchemaCommand;
    }

    /** The environment backend and checkpoint providers read; empty unless built from one. */
    public Map<String, String> environment() {
        return environment;
    }

    /** Settings for {@link SkyDeckConfig}; every one has a default. */
    public static final class Builder {
        private Path home;
        private Path databaseFile;
        private String databaseUrl;
        private String user;
        private Duration leaseTtl = Duration.ofSeconds(10);
        private String backend = "auto";
        private String backendChosenBy = "the configuration";
        private Duration reconcileInterval = Duration.ofSeconds(60);
        private Duration pollInterval = Duration.ofSeconds(30);
        private Duration fastPollInterval = Duration.ofSeconds(5);
        private Duration syncInterval = Duration.ofSeconds(60);
        private Duration fullListingInterval = Duration.ofMinutes(10);
        private int reconcilerThreads = 4;
        private int maxConcurrentLaunches;
        private int maxGpus;
        private Duration launchLease = Duration.ofMinutes(2);
        private Duration retryBase = Duration.ofSeconds(5);
        private Duration retryCap = Duration.ofMinutes(5);
        private Duration vanishedGrace = Duration.ofMinutes(10);
        private Duration cancelRetry = Duration.ofMinutes(2);
        private int cancelAttempts = 3;
        private List<String> flagSchemaCommand;
        private Map<String, String> environment = Map.of();

        private Builder() {
        }

        /** SkyDeck's directory. */
        public Builder home(Path value) {
            this.home = Objects.requireNonNull(value, "home");
            return this;
        }

        /** The SQLite file to open when no store is given. */
        public Builder databaseFile(Path value) {
            this.databaseFile = value;
            return this;
        }

        /** The database as a JDBC URL (see {@link SkyDeckConfig#databaseUrl()}); {@code null}: the SQLite file. */
        public Builder databaseUrl(String value) {
            this.databaseUrl = value;
            return this;
        }

        /** The user this deck acts as (see {@link SkyDeckConfig#user()}); {@code null}: none. */
        public Builder user(String value) {
            this.user = value;
            return this;
        }

        /** How long the engine's lease lasts unless renewed (see {@link SkyDeckConfig#leaseTtl()}). */
        public Builder leaseTtl(Duration value) {
            this.leaseTtl = value;
            return this;
        }

        /** The backend by name ({@code local}, {@code skypilot}, {@code auto}), and who chose it. */
        public Builder backend(String name, String chosenBy) {
            this.backend = name;
            this.backendChosenBy = Objects.requireNonNull(chosenBy, "chosenBy");
            return this;
        }

        /** Periodic resync of every experiment. */
        public Builder reconcileInterval(Duration value) {
            this.reconcileInterval = value;
            return this;
        }

        /** Poll interval when quiet. */
        public Builder pollInterval(Duration value) {
            this.pollInterval = value;
            return this;
        }

        /** Poll interval while jobs launch or change. */
        public Builder fastPollInterval(Duration value) {
            this.fastPollInterval = value;
            return this;
        }

        /** Checkpoint sync interval. */
        public Builder syncInterval(Duration value) {
            this.syncInterval = value;
            return this;
        }

        /** How often a poll lists every job, not only unfinished ones. */
        public Builder fullListingInterval(Duration value) {
            this.fullListingInterval = value;
            return this;
        }

        /** Reconcile threads. */
        public Builder reconcilerThreads(int value) {
            this.reconcilerThreads = value;
            return this;
        }

        /** Launches in progress at once; 0 is no limit. */
        public Builder maxConcurrentLaunches(int value) {
            this.maxConcurrentLaunches = value;
            return this;
        }

        /** GPUs in use at once; 0 is no limit. */
        public Builder maxGpus(int value) {
            this.maxGpus = value;
            return this;
        }

        /** How long another process's unrecorded launch is left alone. */
        public Builder launchLease(Duration value) {
            this.launchLease = value;
            return this;
        }

        /** Backoff bounds for retryable backend failures. */
        public Builder retryBackoff(Duration first, Duration cap) {
            this.retryBase = first;
            this.retryCap = cap;
            return this;
        }

        /** How long a vanished job stays UNKNOWN before FAILED. */
        public Builder vanishedGrace(Duration value) {
            this.vanishedGrace = value;
            return this;
        }

        /** How long after an unconfirmed cancel it is sent again, and how many sends at most. */
        public Builder cancelRetry(Duration value, int attempts) {
            this.cancelRetry = value;
            this.cancelAttempts = attempts;
            return this;
        }

        /** The flag schema command, or {@code null} for none. */
        public Builder flagSchemaCommand(List<String> value) {
            this.flagSchemaCommand = value;
            return this;
        }

        /** The environment providers read. */
        public Builder environment(Map<String, String> value) {
            this.environment = Map.copyOf(Objects.requireNonNull(value, "environment"));
            return this;
        }

        /**
         * Validates and freezes the settings.
         *
         * @throws SkyDeckException.InvalidInput naming the first value that is not allowed
         */
        public SkyDeckConfig build() {
            return new SkyDeckConfig(this);
        }
    }
}
