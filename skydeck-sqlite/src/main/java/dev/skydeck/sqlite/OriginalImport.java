package dev.skydeck.sqlite;

import dev.skydeck.Actor;
import dev.skydeck.Checkpoint;
import dev.skydeck.DesiredState;
import dev.skydeck.Event;
import dev.skydeck.EventType;
import dev.skydeck.Experiment;
import dev.skydeck.ExperimentQuery;
import dev.skydeck.Group;
import dev.skydeck.Job;
import dev.skydeck.JobStatus;
import dev.skydeck.SkyDeckException;
import dev.skydeck.sqlite.internal.DatabaseFile;
import dev.skydeck.sqlite.internal.OriginalReader;
import dev.skydeck.spi.Store;
import dev.skydeck.spi.StoreTx;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Brings a database of the original (Python) SkyDeck over, keeping what it holds: experiments
 * (ids, names, typed flags, command, run name, resources, branch, description, tags, desired state,
 * star, order, expansion, soft deletes, times), jobs (their SkyPilot ids, statuses, times, exit
 * codes, commands; orphans stay orphans), checkpoints, groups (flags, collapsed state, order,
 * members in order, an experiment in several groups), operation logs (as events) and settings.
 *
 * <pre>{@code
 * // what `skydeck import ~/.skydeck/skydeck.db` does: the original moves aside, SkyDeck's takes its place
 * OriginalImport.Report r = OriginalImport.from(Path.of(System.getProperty("user.home"), ".skydeck/skydeck.db"))
 *         .intoFile(Path.of(System.getProperty("user.home"), ".skydeck/skydeck.db"));
 * r.lines().forEach(System.out::println);
 *
 * // or into any store, in one transaction
 * try (Store store = SqliteStore.open(Path.of("new.db"))) {
 *     OriginalImport.from(Path.of("old-skydeck.db")).into(store);
 * }
 * }</pre>
 *
 * <p>Everything is written in one transaction through the {@link Store} SPI, so it works into any
 * store; the original file is only read (never a byte changed). Nothing is launched or cancelled:
 * the importer talks to no backend. Importing again changes nothing that is there already (rows are
 * matched by id; operation logs by the last one imported) and says so. Jobs are recorded as
 * {@code skypilot} jobs, the only kind the original ran: a SkyDeck running another backend leaves
 * them as they are. The newest active job of an experiment desired RUNNING becomes a SkyDeck launch
 * (Stop cancels it, when SkyDeck runs on SkyPilot); every other job is recorded as launched outside
 * SkyDeck, so SkyDeck never cancels it on its own.
 *
 * <p>Immutable and thread-safe.
 */
public final class OriginalImport {
    /** The setting that records the import into a store (source, when, what was brought over). */
    public static final String MARKER_SETTING = "original-skydeck-import";

    private final Path source;
    private final ZoneId localZone;
    private final Clock clock;

    private OriginalImport(Path source, ZoneId localZone, Clock clock) {
        this.source = source;
        this.localZone = localZone;
        this.clock = clock;
    }

    /** An import of the original database in {@code originalFile}, with this machine's time zone. */
    public static OriginalImport from(Path originalFile) {
        return new OriginalImport(Objects.requireNonNull(originalFile, "originalFile").toAbsolutePath().normalize(),
                ZoneId.systemDefault(), Clock.systemUTC());
    }

    /**
     * This import reading {@code jobs.created_at}, which the original writes in the local time of the
     * machine it ran on, in {@code zone} (default: this machine's zone).
     */
    public OriginalImport localZone(ZoneId zone) {
        return new OriginalImport(source, Objects.requireNonNull(zone, "zone"), clock);
    }

    /** This import with another clock (the time it records). */
    public OriginalImport clock(Clock value) {
        return new OriginalImport(source, localZone, Objects.requireNonNull(value, "clock"));
    }

    /** Whether {@code file} is a database of the original SkyDeck; the file is only read, never changed. */
    public static boolean isOriginalDatabase(Path file) {
        return DatabaseFile.inspect(file.toAbsolutePath().normalize()).kind() == DatabaseFile.Kind.ORIGINAL;
    }

    /**
     * Where {@link #intoFile} moves an original database that sits where the new one goes:
     * {@code skydeck.db} becomes {@code skydeck.original.db} (then {@code skydeck.original-2.db}, … if
     * that name is taken).
     */
    public static Path keptAsFor(Path original) {
        Path file = original.toAbsolutePath().normalize();
        String name = file.getFileName().toString();
        int dot = name.lastIndexOf('.');
        String stem = dot > 0 ? name.substring(0, dot) : name;
        String ext = dot > 0 ? name.substring(dot) : ".db";
        Path candidate = file.resolveSibling(stem + ".original" + ext);
        for (int n = 2; Files.exists(candidate); n++) {
            candidate = file.resolveSibling(stem + ".original-" + n + ext);
        }
        return candidate;
    }

    /**
     * What an import did.
     *
     * @param source        the original database read
     * @param keptAs        where the original's bytes are now: {@code source}, or the name it was moved to
     * @param target        the store written ({@link Store#describe()})
     * @param imported      rows written, per kind
     * @param alreadyThere  rows of the original the store held already (left as they were), per kind
     * @param leftOut       rows of the original pointing at nothing (members and checkpoints of experiments
     *                      that no longer exist), which no store can hold, and why
     * @param notes         what to know about the imported data (experiments that will launch, …)
     * @param previously    when the store was first imported into, or {@code null} for a first import
     */
    public record Report(Path source, Path keptAs, String target, Map<String, Integer> imported,
                         Map<String, Integer> alreadyThere, List<String> leftOut, List<String> notes,
                         Instant previously) {
        /** Freezes the collections. */
        public Report {
            imported = Map.copyOf(imported);
            alreadyThere = Map.copyOf(alreadyThere);
            leftOut = List.copyOf(leftOut);
            notes = List.copyOf(notes);
        }

        /** Whether anything was written. */
        public boolean changed() {
            return imported.values().stream().anyMatch(n -> n > 0);
        }

        /** The report for people, a line each. */
        public List<String> lines() {
            List<String> out = new ArrayList<>();
            if (changed()) {
                out.add("Imported the original SkyDeck database " + source + " into " + target + ":");
                out.add("  " + counts(imported));
                if (alreadyThere.values().stream().anyMatch(n -> n > 0)) {
                    out.add("  already there (left as they were): " + counts(alreadyThere));
                }
            } else {
                out.add("Nothing to import: everything in " + source + " is in " + target + " already"
                        + (previously == null ? "" : " (imported " + previously + ")") + ". Nothing was changed.");
            }
            if (!keptAs.equals(source)) {
                out.add("The original database is kept, unchanged, as " + keptAs);
            } else if (changed()) {
                out.add("The original database " + source + " was only read (unchanged)");
            }
            for (String l : leftOut) {
                out.add("  left out: " + l);
            }
            for (String n : notes) {
                out.add("  note: " + n);
            }
            return out;
        }

        private static String counts(Map<String, Integer> m) {
            return KINDS.stream().map(k -> m.getOrDefault(k, 0) + " " + k).collect(Collectors.joining(", "));
        }
    }

    private static final List<String> KINDS = List.of("experiments", "jobs", "checkpoints", "groups", "events",
            "settings");

    /**
     * Imports into {@code store} in one transaction.
     *
     * @throws SkyDeckException.InvalidInput when the file is not an original SkyDeck database, holds values
     *         SkyDeck cannot keep exactly (each listed), or the store holds experiments of its own (import
     *         into an empty store, so that ids stay what they were); nothing is written then
     */
    public Report into(Store store) {
        return into(store, source);
    }

    /**
     * Imports into the SQLite database {@code target}, the way {@code skydeck import} does: when
     * {@code target} is the original file itself, the original is first moved aside (see
     * {@link #keptAsFor}; its bytes are kept as they are) and the new database is written in its
     * place, so one working deck ends up at the usual path. If the import fails, the original is put
     * back where it was. When {@code target} is a SkyDeck database already, the import adds what it
     * lacks (nothing, on a second run).
     *
     * @throws SkyDeckException when the file is not an original database, or the import fails
     */
    public Report intoFile(Path target) {
        Path to = target.toAbsolutePath().normalize();
        DatabaseFile.Inspection sourceKind = DatabaseFile.inspect(source);
        if (to.equals(source) && sourceKind.kind() == DatabaseFile.Kind.SKYDECK) {
            try (SqliteStore store = SqliteStore.open(to)) {
                Optional<Marker> marker = store.setting(MARKER_SETTING).map(Marker::parse);
                String from = marker.map(m -> " from " + m.keptAs + " on " + m.at).orElse("");
                return new Report(source, marker.map(m -> Path.of(m.keptAs)).orElse(source), store.describe(),
                        Map.of(), Map.of(), List.of(), List.of(to + " is a SkyDeck database already (imported" + from
                        + "); to import the original again, name it: skydeck import " + marker.map(m -> m.keptAs)
                        .orElse("ORIGINAL.db")), marker.map(m -> m.at).orElse(null));
            }
        }
        requireOriginal(sourceKind);
        if (!to.equals(source)) {
            try (SqliteStore store = SqliteStore.open(to)) {
                return into(store, source);
            }
        }
        Path keptAs = keptAsFor(source);
        List<String[]> moved = new ArrayList<>();
        try {
            for (String suffix : List.of("", "-journal", "-wal", "-shm")) {
                Path from = Path.of(source + suffix);
                if (Files.exists(from)) {
                    Path dest = Path.of(keptAs + suffix);
                    Files.move(from, dest, StandardCopyOption.ATOMIC_MOVE);
                    moved.add(new String[] {from.toString(), dest.toString()});
                }
            }
        } catch (IOException e) {
            restore(moved, to);
            throw new SkyDeckException("cannot move the original database " + source + " aside to " + keptAs + " ("
                    + e.getMessage() + "): nothing was changed; check the directory's permissions", false, e);
        }
        try {
            Report r;
            try (SqliteStore store = SqliteStore.open(to)) {
                r = new OriginalImport(keptAs, localZone, clock).into(store, keptAs);
            }
            return new Report(source, keptAs, r.target(), r.imported(), r.alreadyThere(), r.leftOut(), r.notes(),
                    r.previously());
        } catch (RuntimeException e) {
            restore(moved, to);
            throw e;
        }
    }

    /** Undoes a move aside: the new database goes, the original comes back. */
    private static void restore(List<String[]> moved, Path created) {
        for (String suffix : List.of("", "-journal", "-wal", "-shm")) {
            try {
                Files.deleteIfExists(Path.of(created + suffix));
            } catch (IOException e) {
                // the original's return below matters more
            }
        }
        for (String[] m : moved) {
            try {
                Files.move(Path.of(m[1]), Path.of(m[0]), StandardCopyOption.ATOMIC_MOVE);
            } catch (IOException e) {
                throw new SkyDeckException("the import failed and the original database could not be moved back from "
                        + m[1] + " to " + m[0] + " (" + e.getMessage() + "): move it back by hand", false, e);
            }
        }
    }

    private void requireOriginal(DatabaseFile.Inspection found) {
        switch (found.kind()) {
            case ORIGINAL -> {
            }
            case NEW -> throw new SkyDeckException.InvalidInput(source + " does not exist or is empty: name the"
                    + " original SkyDeck's database (usually ~/.skydeck/skydeck.db)");
            case SKYDECK -> throw new SkyDeckException.InvalidInput(source + " is a SkyDeck database, not the original"
                    + " SkyDeck's: there is nothing to import");
            default -> throw new SkyDeckException.InvalidInput(source + " is not a database of the original SkyDeck"
                    + " (it has no experiments and jobs tables of its format)");
        }
    }

    private Report into(Store store, Path keptAs) {
        requireOriginal(DatabaseFile.inspect(source));
        Instant now = clock.instant();
        OriginalReader.Contents in = OriginalReader.read(source, localZone, now);
        if (!in.problems().isEmpty()) {
            int shown = Math.min(20, in.problems().size());
            throw new SkyDeckException.InvalidInput("cannot import " + source + ": " + in.problems().size()
                    + " value(s) SkyDeck cannot keep exactly; nothing was written. Fix them in the original (its"
                    + " dashboard, or sqlite3) and import again:\n  " + String.join("\n  ",
                    in.problems().subList(0, shown)) + (shown < in.problems().size() ? "\n  …" : ""));
        }
        String hash = sha256(source);
        return store.write(tx -> write(tx, in, keptAs, hash, now, store.describe()));
    }

    private Report write(StoreTx tx, OriginalReader.Contents in, Path keptAs, String hash, Instant now,
                         String target) {
        Optional<Marker> marker = tx.setting(MARKER_SETTING).map(Marker::parse);
        if (marker.isEmpty()) {
            long own = tx.experiments(ExperimentQuery.ALL.withDeleted(true).page(1, 0)).total();
            if (own > 0 || !tx.groups().isEmpty()) {
                throw new SkyDeckException.InvalidInput(target + " already holds experiments or groups of its own: import"
                        + " the original into an empty database (skydeck import " + source + " --db-path NEW.db)"
                        + " so that its ids stay what they were; nothing was written");
            }
        }
        Map<String, Integer> added = new LinkedHashMap<>();
        Map<String, Integer> there = new LinkedHashMap<>();
        KINDS.forEach(k -> {
            added.put(k, 0);
            there.put(k, 0);
        });

        // experiments, with their ids
        Set<Long> present = tx.experiments(in.experiments().stream().map(Experiment::id).toList()).stream()
                .map(Experiment::id).collect(Collectors.toSet());
        for (Experiment e : in.experiments()) {
            if (present.contains(e.id())) {
                there.merge("experiments", 1, Integer::sum);
            } else {
                tx.importExperiment(e);
                added.merge("experiments", 1, Integer::sum);
            }
        }

        // jobs: the newest active job of an experiment desired RUNNING is SkyDeck's launch; others are not
        Map<String, Experiment> live = new HashMap<>();
        for (Experiment e : in.experiments()) {
            if (!e.deleted()) {
                live.put(e.name(), e);
            }
        }
        Set<String> managed = new HashSet<>();
        Set<String> claimed = new HashSet<>();
        for (int i = in.jobs().size() - 1; i >= 0; i--) {
            Job j = in.jobs().get(i);
            Experiment owner = live.get(j.experimentName());
            if (j.isActive() && j.status() != JobStatus.INIT && owner != null
                    && owner.desiredState() == DesiredState.RUNNING && claimed.add(j.experimentName())) {
                managed.add(j.id());
            }
        }
        Map<String, Job> known = tx.jobsByBackendId(OriginalReader.BACKEND,
                in.jobs().stream().map(Job::backendJobId).toList());
        for (Job j : in.jobs()) {
            if (known.containsKey(j.backendJobId()) || tx.job(j.id()).isPresent()) {
                there.merge("jobs", 1, Integer::sum);
                continue;
            }
            Job job = managed.contains(j.id()) ? withLaunchId(j, j.id()) : j;
            try {
                tx.insertJob(job);
            } catch (SkyDeckException.Conflict c) {
                // SkyDeck launched a job of that experiment since a first import: this one is not its launch
                tx.insertJob(withLaunchId(j, null));
            }
            added.merge("jobs", 1, Integer::sum);
        }

        // checkpoints of experiments that exist
        Map<Long, Set<Long>> epochs = new HashMap<>();
        for (Checkpoint c : in.checkpoints()) {
            Set<Long> have = epochs.computeIfAbsent(c.experimentId(), id -> tx.checkpoints(id, 100_000).stream()
                    .map(Checkpoint::epoch).collect(Collectors.toSet()));
            if (have.contains(c.epoch())) {
                there.merge("checkpoints", 1, Integer::sum);
            } else {
                tx.upsertCheckpoint(c);
                added.merge("checkpoints", 1, Integer::sum);
            }
        }

        // groups, with their ids, order and members
        Set<Long> groups = tx.groups().stream().map(Group::id).collect(Collectors.toSet());
        for (Group g : in.groups()) {
            if (groups.contains(g.id())) {
                there.merge("groups", 1, Integer::sum);
            } else {
                tx.importGroup(g);
                added.merge("groups", 1, Integer::sum);
            }
        }

        // operation logs as events, after the last one imported before
        long through = marker.map(m -> m.operationLogsThrough).orElse(0L);
        List<Event> events = new ArrayList<>();
        long last = through;
        for (OriginalReader.LoggedEvent e : in.events()) {
            if (e.originalId() <= through) {
                there.merge("events", 1, Integer::sum);
            } else {
                events.add(e.draft());
                last = Math.max(last, e.originalId());
            }
        }
        tx.appendEvents(events);
        added.merge("events", events.size(), Integer::sum);

        // settings the store does not have yet
        for (Map.Entry<String, String> s : in.settings().entrySet()) {
            if (tx.setting(s.getKey()).isPresent()) {
                there.merge("settings", 1, Integer::sum);
            } else {
                tx.putSetting(s.getKey(), s.getValue());
                added.merge("settings", 1, Integer::sum);
            }
        }

        List<String> notes = notes(in, managed);
        boolean changed = added.values().stream().anyMatch(n -> n > 0);
        Instant first = marker.map(m -> m.at).orElse(null);
        if (changed) {
            Marker next = new Marker(marker.map(m -> m.at).orElse(now), source.toString(), keptAs.toString(), hash,
                    last, in.wandbLinks());
            tx.putSetting(MARKER_SETTING, next.json());
            tx.appendEvent(new Event(0, now, Actor.USER, EventType.UPDATE, null, null, null, true,
                    "imported the original SkyDeck database " + source + ": " + Report.counts(added), null));
        }
        return new Report(source, keptAs, target, added, there, in.leftOut(), notes, first);
    }

    private static List<String> notes(OriginalReader.Contents in, Set<String> managed) {
        List<String> notes = new ArrayList<>();
        Set<String> withJobs = in.jobs().stream().map(Job::experimentName).collect(Collectors.toSet());
        List<String> willLaunch = in.experiments().stream()
                .filter(e -> !e.deleted() && e.desiredState() == DesiredState.RUNNING && !withJobs.contains(e.name()))
                .map(Experiment::name).toList();
        if (!willLaunch.isEmpty()) {
            notes.add(willLaunch.size() + " experiment(s) are desired RUNNING and have no job yet: SkyDeck launches"
                    + " them when it runs (stop them first if they should not run): " + String.join(", ", willLaunch));
        }
        long active = in.jobs().stream().filter(Job::isActive).count();
        if (active > 0) {
            notes.add(active + " job(s) were active when the original last looked; they are " + OriginalReader.BACKEND
                    + " jobs: a SkyDeck on SkyPilot follows them (" + managed.size() + " as its own launches), one on"
                    + " another backend leaves them as they are");
        }
        if (!in.wandbLinks().isEmpty()) {
            notes.add(in.wandbLinks().size() + " W&B link(s) are kept in the setting " + MARKER_SETTING
                    + " (wandb_links); SKYDECK_LINKS shows link pills from a template such as"
                    + " W&B=https://wandb.ai/<entity>/<project>/runs/{name}");
        }
        return notes;
    }

    private static Job withLaunchId(Job j, String launchId) {
        return new Job(j.id(), j.experimentName(), j.backend(), j.backendJobId(), launchId, j.launchRef(), j.status(),
                j.backendStatus(), j.failureReason(), j.details(), j.stage(), j.stageSince(), j.attempt(),
                j.generation(), j.command(), j.flags(), j.nodes(), j.gpus(), j.resources(), j.gitRef(), j.configHash(),
                j.createdAt(), j.submittedAt(), j.startedAt(), j.endedAt(), j.exitCode(), j.recoveryCount(),
                j.clusterName(), j.cloud(), j.region(), j.cancel(), j.updatedAt());
    }

    private static String sha256(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0; ) {
                md.update(buf, 0, n);
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (IOException e) {
            throw new SkyDeckException("cannot read " + file + ": " + e.getMessage(), false, e);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JVM", e);
        }
    }

    /** What the marker setting holds. */
    private record Marker(Instant at, String source, String keptAs, String sha256, long operationLogsThrough,
                          Map<String, String> wandbLinks) {
        private static final com.fasterxml.jackson.databind.ObjectMapper JSON =
                new com.fasterxml.jackson.databind.ObjectMapper();

        String json() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("imported_at", at.toString());
            m.put("source", source);
            m.put("kept_as", keptAs);
            m.put("sha256", sha256);
            m.put("operation_logs_through", operationLogsThrough);
            m.put("wandb_links", wandbLinks);
            try {
                return JSON.writeValueAsString(m);
            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                throw new IllegalStateException(e);
            }
        }

        static Marker parse(String json) {
            try {
                var n = JSON.readTree(json);
                Map<String, String> links = new LinkedHashMap<>();
                n.path("wandb_links").fields().forEachRemaining(f -> links.put(f.getKey(), f.getValue().asText()));
                return new Marker(Instant.parse(n.path("imported_at").asText()), n.path("source").asText(),
                        n.path("kept_as").asText(), n.path("sha256").asText(), n.path("operation_logs_through").asLong(),
                        links);
            } catch (IOException | RuntimeException e) {
                throw new SkyDeckException("the setting " + MARKER_SETTING + " is damaged (" + e.getMessage()
                        + "): delete it to import again", false, e);
            }
        }
    }
}
