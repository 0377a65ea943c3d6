package dev.skydeck.memory;

import dev.skydeck.ApiToken;
import dev.skydeck.Checkpoint;
import dev.skydeck.Event;
import dev.skydeck.EventQuery;
import dev.skydeck.Experiment;
import dev.skydeck.ExperimentQuery;
import dev.skydeck.ExperimentSpec;
import dev.skydeck.ExperimentStatus;
import dev.skydeck.Group;
import dev.skydeck.Job;
import dev.skydeck.JobQuery;
import dev.skydeck.JobStatus;
import dev.skydeck.Page;
import dev.skydeck.SkyDeckException;
import dev.skydeck.SkyDeckException.Conflict.Reason;
import dev.skydeck.spi.Lease;
import dev.skydeck.spi.Store;
import dev.skydeck.spi.StoreTx;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.stream.Stream;

/**
 * A {@link Store} in memory: for tests, benchmarks and throwaway sessions. Nothing survives
 * {@link #close()}. Writes are serialised; a failed {@link #write} is undone completely.
 */
public final class InMemoryStore implements Store {
    private static final Comparator<Job> NEWEST_FIRST =
            Comparator.comparing(Job::createdAt).thenComparing(Job::id).reversed();

    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    private final Map<Long, Experiment> experiments = new HashMap<>();
    private final Map<String, Long> liveByName = new HashMap<>();
    private final Map<String, Job> jobs = new HashMap<>();
    private final Map<String, List<Job>> jobsByExperiment = new HashMap<>();
    private final Map<String, String> jobIdByLaunchId = new HashMap<>();
    private final Map<String, String> jobIdByBackendKey = new HashMap<>();
    private final Set<String> activeJobIds = new HashSet<>();
    private final TreeMap<Long, Group> groups = new TreeMap<>();
    private final Map<Long, NavigableMap<Long, Checkpoint>> checkpoints = new HashMap<>();
    private final List<Event> events = new ArrayList<>();
    private final Map<String, String> settings = new HashMap<>();
    private final Map<String, Lease> leases = new HashMap<>();
    /** Tokens by hash, in creation order. */
    private final Map<String, ApiToken> tokens = new java.util.LinkedHashMap<>();
    private long nextExperimentId = 1;
    private long nextGroupId = 1;
    private volatile boolean closed;

    /** An empty store. */
    public InMemoryStore() {
    }

    @Override
    public <T> T write(Function<StoreTx, T> work) {
        if (lock.isWriteLockedByCurrentThread()) {
            // a nested write would commit or roll back independently of the outer one
            throw new IllegalStateException("Store.write() cannot be nested: use the StoreTx you were given");
        }
        lock.writeLock().lock();
        try {
            checkOpen();
            Tx tx = new Tx();
            try {
                return work.apply(tx);
            } catch (RuntimeException | Error e) {
                tx.rollback();
                throw e;
            } finally {
                tx.done = true;
            }
        } finally {
            lock.writeLock().unlock();
        }
    }

    @Override
    public String describe() {
        return "memory";
    }

    @Override
    public void close() {
        closed = true;
    }

    private void checkOpen() {
        if (closed) {
            throw new SkyDeckException("the in-memory store is closed: open a new SkyDeck");
        }
    }

    private <T> T read(java.util.function.Supplier<T> body) {
        if (lock.isWriteLockedByCurrentThread()) {
            return body.get();
        }
        lock.readLock().lock();
        try {
            checkOpen();
            return body.get();
        } finally {
            lock.readLock().unlock();
        }
    }

    // ---- reads ----

    @Override
    public Optional<Experiment> experiment(long id) {
        return read(() -> Optional.ofNullable(experiments.get(id)).map(this::derive));
    }

    @Override
    public Optional<Experiment> experimentByName(String name) {
        return read(() -> Optional.ofNullable(liveByName.get(name)).map(experiments::get).map(this::derive));
    }

    @Override
    public List<Experiment> experiments(Collection<Long> ids) {
        return read(() -> ids.stream().distinct().map(experiments::get).filter(e -> e != null).map(this::derive).toList());
    }

    @Override
    public Map<String, Experiment> experimentsByName(Collection<String> names) {
        return read(() -> {
            Map<String, Experiment> out = new HashMap<>();
            for (String name : names) {
                Long id = liveByName.get(name);
                if (id != null) {
                    out.put(name, derive(experiments.get(id)));
                }
            }
            return out;
        });
    }

    @Override
    public Page<Experiment> experiments(ExperimentQuery q) {
        return read(() -> matching().page(derivedAll(), q));
    }

    @Override
    public dev.skydeck.ExperimentFacets experimentFacets(ExperimentQuery q, int maxValues) {
        return read(() -> matching().facets(derivedAll(), q, maxValues));
    }

    @Override
    public dev.skydeck.GroupSummary.All groupSummaries() {
        return read(() -> matching().summaries(derivedAll()));
    }

    private List<Experiment> derivedAll() {
        return experiments.values().stream().map(this::derive).toList();
    }

    private dev.skydeck.internal.ExperimentMatching matching() {
        return new dev.skydeck.internal.ExperimentMatching(groups(), e -> {
            List<Job> list = jobsByExperiment.get(e.name());
            return list == null || list.isEmpty() ? null : jobs.get(list.get(list.size() - 1).id()).startedAt();
        });
    }

    @Override
    public List<Long> experimentIdsToReconcile() {
        return read(() -> liveOrBusyIds(e -> true));
    }

    @Override
    public List<Long> experimentIdsUnsettled() {
        return read(() -> liveOrBusyIds(e -> !e.settled()));
    }

    /** Ids of the live experiments that pass {@code live}, and of every one with an active job, in order. */
    private List<Long> liveOrBusyIds(java.util.function.Predicate<Experiment> live) {
        Set<String> withActive = new HashSet<>();
        for (String id : activeJobIds) {
            withActive.add(jobs.get(id).experimentName());
        }
        return experiments.values().stream()
                .filter(e -> (!e.deleted() && live.test(e)) || withActive.contains(e.name()))
                .map(Experiment::id).sorted().toList();
    }

    @Override
    public Optional<Job> job(String id) {
        return read(() -> Optional.ofNullable(jobs.get(id)));
    }

    @Override
    public Optional<Job> jobByLaunchId(String launchId) {
        return read(() -> Optional.ofNullable(jobIdByLaunchId.get(launchId)).map(jobs::get));
    }

    @Override
    public Map<String, Job> jobsByLaunchId(Collection<String> launchIds) {
        return read(() -> {
            Map<String, Job> out = new HashMap<>();
            for (String l : launchIds) {
                String id = jobIdByLaunchId.get(l);
                if (id != null) {
                    out.put(l, jobs.get(id));
                }
            }
            return out;
        });
    }

    @Override
    public Map<String, Job> jobsByBackendId(String backend, Collection<String> backendJobIds) {
        return read(() -> {
            Map<String, Job> out = new HashMap<>();
            for (String b : backendJobIds) {
                String id = jobIdByBackendKey.get(backendKey(backend, b));
                if (id != null) {
                    out.put(b, jobs.get(id));
                }
            }
            return out;
        });
    }

    @Override
    public Page<Job> jobs(JobQuery q) {
        return read(() -> {
            String text = q.text() == null ? null : q.text().toLowerCase(Locale.ROOT);
            Stream<Job> source = q.experimentName() != null
                    ? jobsByExperiment.getOrDefault(q.experimentName(), List.of()).stream().map(j -> jobs.get(j.id()))
                    : jobs.values().stream();
            // the per-experiment list holds jobs as inserted: read the current version of each
            source = source.map(j -> jobs.get(j.id()));
            Predicate<Job> orphan = j -> !liveByName.containsKey(j.experimentName());
            List<Job> all = source
                    .filter(j -> q.active() == null || j.isActive() == q.active())
                    .filter(j -> q.orphaned() == null || orphan.test(j) == q.orphaned())
                    .filter(j -> q.launchedBy() == null || q.launchedBy().equals(j.launchedBy()))
                    .filter(j -> text == null || j.id().toLowerCase(Locale.ROOT).contains(text)
                            || j.experimentName().toLowerCase(Locale.ROOT).contains(text)
                            || (j.backendJobId() != null && j.backendJobId().toLowerCase(Locale.ROOT).contains(text)))
                    .sorted(NEWEST_FIRST)
                    .toList();
            return new Page<>(slice(all, q.offset(), q.limit()), all.size());
        });
    }

    @Override
    public List<Job> activeJobs() {
        return read(() -> activeJobIds.stream().map(jobs::get).sorted(NEWEST_FIRST).toList());
    }

    @Override
    public ActiveJobs activeJobStats(String backend) {
        return read(() -> {
            long active = 0;
            long launching = 0;
            long gpus = 0;
            for (String id : activeJobIds) {
                Job j = jobs.get(id);
                if (!j.backend().equals(backend)) {
                    continue;
                }
                active++;
                if (j.status() == JobStatus.INIT || j.status() == JobStatus.PENDING || j.status() == JobStatus.STARTING) {
                    launching++;
                }
                gpus += (long) j.nodes() * j.gpus();
            }
            return new ActiveJobs(active, launching, gpus);
        });
    }

    @Override
    public List<Job> orphanedCancels() {
        return read(() -> activeJobIds.stream().map(jobs::get)
                .filter(j -> j.cancelRequested() && !liveByName.containsKey(j.experimentName()))
                .sorted(Comparator.comparing((Job j) -> j.cancel().requestedAt()).thenComparing(Job::id)).toList());
    }

    @Override
    public List<Group> groups() {
        return read(() -> groups.values().stream()
                .sorted(Comparator.comparingInt(Group::order).thenComparingLong(Group::id)).toList());
    }

    @Override
    public Optional<Group> group(long id) {
        return read(() -> Optional.ofNullable(groups.get(id)));
    }

    @Override
    public List<Checkpoint> checkpoints(long experimentId, int limit) {
        return read(() -> checkpoints.getOrDefault(experimentId, new TreeMap<>()).descendingMap().values().stream()
                .limit(limit).toList());
    }

    @Override
    public List<Event> events(EventQuery q) {
        return read(() -> {
            Stream<Event> s = q.newestFirst() ? reversed(events).stream() : events.stream();
            return s.filter(e -> e.seq() > q.afterSeq())
                    .filter(e -> q.experimentId() == null || q.experimentId().equals(e.experimentId()))
                    .limit(q.limit()).toList();
        });
    }

    @Override
    public long lastEventSeq() {
        return read(() -> events.isEmpty() ? 0L : events.get(events.size() - 1).seq());
    }

    @Override
    public Optional<String> setting(String key) {
        return read(() -> Optional.ofNullable(settings.get(key)));
    }

    @Override
    public StoreCounts counts() {
        return read(() -> new StoreCounts(liveByName.size(), activeJobIds.size()));
    }

    @Override
    public Optional<Lease> lease(String name) {
        return read(() -> Optional.ofNullable(leases.get(name)));
    }

    @Override
    public Optional<ApiToken> tokenByHash(String sha256Hex) {
        return read(() -> Optional.ofNullable(tokens.get(sha256Hex)));
    }

    @Override
    public List<ApiToken> tokens() {
        return read(() -> List.copyOf(tokens.values()));
    }

    private Experiment derive(Experiment e) {
        List<Job> list = jobsByExperiment.get(e.name());
        Job newest = list == null || list.isEmpty() ? null : jobs.get(list.get(list.size() - 1).id());
        JobStatus latest = newest == null ? null : newest.status();
        NavigableMap<Long, Checkpoint> cps = checkpoints.get(e.id());
        Long epoch = null;
        if (cps != null) {
            epoch = cps.descendingMap().values().stream().filter(Checkpoint::present).map(Checkpoint::epoch)
                    .findFirst().orElse(null);
        }
        boolean drifted = false;
        if (list != null) {
            for (Job j : list) {
                Job current = jobs.get(j.id());
                if (current.isActive() && current.launchId() != null && current.configHash() != null) {
                    drifted = !current.configHash().equals(e.spec().configHash());
                    break;
                }
            }
        }
        return new Experiment(e.id(), e.spec(), e.starred(), e.order(), e.expanded(), e.deleted(), e.createdAt(),
                e.updatedAt(), e.version(), e.generation(),
                ExperimentStatus.currentState(e.status().stage(), latest), e.status(), epoch, drifted, e.createdBy(),
                e.startedBy(), newest == null ? null : newest.startedAt());
    }

    private static <T> List<T> slice(List<T> all, int offset, int limit) {
        if (offset >= all.size()) {
            return List.of();
        }
        return all.subList(offset, Math.min(all.size(), offset + limit));
    }

    private static <T> List<T> reversed(List<T> list) {
        List<T> copy = new ArrayList<>(list);
        java.util.Collections.reverse(copy);
        return copy;
    }

    private static String backendKey(String backend, String backendJobId) {
        return backend + '\u0000' + backendJobId;
    }

    // ---- writes ----

    private final class Tx implements StoreTx {
        private final Deque<Runnable> undo = new ArrayDeque<>();
        private boolean done;

        void rollback() {
            while (!undo.isEmpty()) {
                undo.pop().run();
            }
        }

        private void check() {
            if (done) {
                throw new IllegalStateException("this transaction has ended: use the StoreTx only inside write()");
            }
        }

        private <K, V> void put(Map<K, V> map, K key, V value) {
            boolean had = map.containsKey(key);
            V old = map.put(key, value);
            undo.push(() -> {
                if (had) {
                    map.put(key, old);
                } else {
                    map.remove(key);
                }
            });
        }

        private <K, V> void remove(Map<K, V> map, K key) {
            if (map.containsKey(key)) {
                V old = map.remove(key);
                undo.push(() -> map.put(key, old));
            }
        }

        @Override
        public Experiment insertExperiment(ExperimentSpec spec, java.time.Instant now, String createdBy) {
            check();
            if (liveByName.containsKey(spec.name())) {
                throw new SkyDeckException.Conflict(Reason.NAME_TAKEN, "an experiment named '" + spec.name()
                        + "' already exists: choose another name, or delete that experiment first");
            }
            long id = nextExperimentId++;
            undo.push(() -> nextExperimentId--);
            int order = experiments.values().stream().mapToInt(Experiment::order).max().orElse(-1) + 1;
            Experiment e = new Experiment(id, spec, false, order, false, false, now, now, 1, 1, null,
                    ExperimentStatus.NEW, null, false, createdBy,
                    spec.desiredState() == dev.skydeck.DesiredState.RUNNING ? createdBy : null);
            put(experiments, id, e);
            put(liveByName, spec.name(), id);
            return derive(e);
        }

        @Override
        public Experiment importExperiment(Experiment given) {
            check();
            if (experiments.containsKey(given.id())) {
                throw new SkyDeckException.Conflict(Reason.ALREADY_RECORDED, "experiment " + given.id()
                        + " already exists");
            }
            if (!given.deleted() && liveByName.containsKey(given.name())) {
                throw new SkyDeckException.Conflict(Reason.NAME_TAKEN, "an experiment named '" + given.name()
                        + "' already exists: choose another name, or delete that experiment first");
            }
            long next = nextExperimentId;
            nextExperimentId = Math.max(nextExperimentId, given.id() + 1);
            undo.push(() -> nextExperimentId = next);
            Experiment e = new Experiment(given.id(), given.spec(), given.starred(), given.order(), given.expanded(),
                    given.deleted(), given.createdAt(), given.updatedAt(), given.version(), given.generation(), null,
                    ExperimentStatus.NEW, null, false);
            put(experiments, e.id(), e);
            if (!e.deleted()) {
                put(liveByName, e.name(), e.id());
            }
            return derive(e);
        }

        @Override
        public Experiment updateExperiment(Experiment changed, java.time.Instant now) {
            check();
            Experiment stored = experiments.get(changed.id());
            if (stored == null) {
                throw new SkyDeckException.NotFound("experiment " + changed.id() + " does not exist");
            }
            if (stored.version() != changed.version()) {
                throw new SkyDeckException.Conflict(Reason.STALE_VERSION, "experiment '" + stored.name()
                        + "' was changed by someone else"
                        + " (version " + changed.version() + " is stale, the current version is " + stored.version()
                        + "): reload it and apply your change again");
            }
            String newName = changed.name();
            boolean wasLive = !stored.deleted();
            boolean live = !changed.deleted();
            if (live && (!wasLive || !newName.equals(stored.name()))) {
                Long holder = liveByName.get(newName);
                if (holder != null && holder != stored.id()) {
                    throw new SkyDeckException.Conflict(Reason.NAME_TAKEN, "an experiment named '" + newName
                            + "' already exists: choose another name, or delete that experiment first");
                }
            }
            if (wasLive) {
                remove(liveByName, stored.name());
            }
            if (live) {
                put(liveByName, newName, stored.id());
            }
            Experiment written = new Experiment(stored.id(), changed.spec(), changed.starred(), changed.order(),
                    changed.expanded(), changed.deleted(), stored.createdAt(), now, stored.version() + 1,
                    changed.generation(), null, stored.status(), null, false, stored.createdBy(), changed.startedBy());
            put(experiments, stored.id(), written);
            return derive(written);
        }

        @Override
        public void updateStatus(long experimentId, ExperimentStatus status) {
            check();
            Experiment stored = experiments.get(experimentId);
            if (stored == null) {
                throw new SkyDeckException.NotFound("experiment " + experimentId + " does not exist");
            }
            put(experiments, experimentId, new Experiment(stored.id(), stored.spec(), stored.starred(), stored.order(),
                    stored.expanded(), stored.deleted(), stored.createdAt(), stored.updatedAt(), stored.version(),
                    stored.generation(), null, status, null, false, stored.createdBy(), stored.startedBy()));
        }

        @Override
        public void updatePresentation(long experimentId, boolean starred, boolean expanded, int order) {
            check();
            Experiment stored = experiments.get(experimentId);
            if (stored == null) {
                throw new SkyDeckException.NotFound("experiment " + experimentId + " does not exist");
            }
            put(experiments, experimentId, stored.withStarred(starred).withExpanded(expanded).withOrder(order));
        }

        @Override
        public void reorderExperiments(List<Long> ids) {
            check();
            for (int i = 0; i < ids.size(); i++) {
                Experiment stored = experiments.get(ids.get(i));
                if (stored != null) {
                    put(experiments, stored.id(), stored.withOrder(i));
                }
            }
        }

        @Override
        public Job insertJob(Job job) {
            check();
            if (jobs.containsKey(job.id())) {
                throw new SkyDeckException.Conflict(Reason.ALREADY_RECORDED, "job " + job.id() + " already exists");
            }
            checkOneActiveLaunch(job);
            if (job.launchId() != null && jobIdByLaunchId.containsKey(job.launchId())) {
                throw new SkyDeckException.Conflict(Reason.ALREADY_RECORDED, "launch id " + job.launchId()
                        + " is already recorded");
            }
            index(job);
            addToExperiment(job);
            return job;
        }

        /** The store's own "one active SkyDeck launch per experiment" rule, as SQLite's unique index has it. */
        private void checkOneActiveLaunch(Job job) {
            if (!job.isActive() || job.launchId() == null) {
                return;
            }
            for (Job other : jobsByExperiment.getOrDefault(job.experimentName(), List.of())) {
                Job current = jobs.get(other.id());
                if (!current.id().equals(job.id()) && current.isActive() && current.launchId() != null) {
                    throw new SkyDeckException.Conflict(Reason.ACTIVE_JOB, "experiment '" + job.experimentName()
                            + "' already has an active job (" + current.id() + "): at most one runs at a time");
                }
            }
        }

        /** Keeps the experiment's job list sorted oldest first (by creation time, then id). */
        private void addToExperiment(Job job) {
            List<Job> list = jobsByExperiment.get(job.experimentName());
            if (list == null) {
                list = new ArrayList<>();
                put(jobsByExperiment, job.experimentName(), list);
            }
            int at = list.size();
            while (at > 0 && NEWEST_FIRST.compare(list.get(at - 1), job) < 0) {
                at--;
            }
            list.add(at, job);
            List<Job> target = list;
            int pos = at;
            undo.push(() -> target.remove(pos));
        }

        private void removeFromExperiment(Job job) {
            List<Job> list = jobsByExperiment.get(job.experimentName());
            for (int i = 0; i < list.size(); i++) {
                if (list.get(i).id().equals(job.id())) {
                    Job removed = list.remove(i);
                    int pos = i;
                    undo.push(() -> list.add(pos, removed));
                    return;
                }
            }
        }

        @Override
        public Job updateJob(Job job) {
            check();
            Job stored = jobs.get(job.id());
            if (stored == null) {
                throw new SkyDeckException.NotFound("job " + job.id() + " does not exist");
            }
            if (!stored.experimentName().equals(job.experimentName())) {
                throw new IllegalArgumentException("a job's experiment never changes");
            }
            checkOneActiveLaunch(job);
            if (job.launchId() != null && !job.launchId().equals(stored.launchId())
                    && jobIdByLaunchId.containsKey(job.launchId())) {
                throw new SkyDeckException.Conflict(Reason.ALREADY_RECORDED, "launch id " + job.launchId()
                        + " is already recorded");
            }
            unindex(stored);
            index(job);
            // the list is ordered by creation time: re-place the job in case that changed
            removeFromExperiment(stored);
            addToExperiment(job);
            return job;
        }

        @Override
        public void updateJobs(List<Job> list) {
            check();
            for (Job j : list) {
                if (!jobs.containsKey(j.id())) {
                    throw new SkyDeckException.NotFound("job " + j.id() + " does not exist");
                }
            }
            for (Job j : list) {
                updateJob(j);
            }
        }

        private void index(Job job) {
            put(jobs, job.id(), job);
            if (job.launchId() != null) {
                put(jobIdByLaunchId, job.launchId(), job.id());
            }
            if (job.backendJobId() != null) {
                put(jobIdByBackendKey, backendKey(job.backend(), job.backendJobId()), job.id());
            }
            if (job.isActive() && activeJobIds.add(job.id())) {
                undo.push(() -> activeJobIds.remove(job.id()));
            }
        }

        private void unindex(Job job) {
            if (job.launchId() != null) {
                remove(jobIdByLaunchId, job.launchId());
            }
            if (job.backendJobId() != null) {
                remove(jobIdByBackendKey, backendKey(job.backend(), job.backendJobId()));
            }
            if (activeJobIds.remove(job.id())) {
                undo.push(() -> activeJobIds.add(job.id()));
            }
        }

        @Override
        public Group insertGroup(Group group) {
            check();
            checkMembers(group);
            long id = nextGroupId++;
            undo.push(() -> nextGroupId--);
            int order = groups.values().stream().mapToInt(Group::order).max().orElse(-1) + 1;
            Group stored = new Group(id, group.name(), group.namePrefix(), group.flags(), order, group.collapsed(),
                    group.experimentIds());
            put(groups, id, stored);
            return stored;
        }

        @Override
        public Group importGroup(Group group) {
            check();
            if (groups.containsKey(group.id())) {
                throw new SkyDeckException.Conflict(Reason.ALREADY_RECORDED, "group " + group.id() + " already exists");
            }
            checkMembers(group);
            long next = nextGroupId;
            nextGroupId = Math.max(nextGroupId, group.id() + 1);
            undo.push(() -> nextGroupId = next);
            put(groups, group.id(), group);
            return group;
        }

        @Override
        public Group updateGroup(Group group) {
            check();
            if (!groups.containsKey(group.id())) {
                throw new SkyDeckException.NotFound("group " + group.id() + " does not exist");
            }
            checkMembers(group);
            put(groups, group.id(), group);
            return group;
        }

        private void checkMembers(Group group) {
            for (Long id : group.experimentIds()) {
                if (!experiments.containsKey(id)) {
                    throw new SkyDeckException.NotFound("group '" + group.name() + "' lists experiment " + id
                            + ", which does not exist");
                }
            }
        }

        @Override
        public void deleteGroup(long groupId) {
            check();
            if (!groups.containsKey(groupId)) {
                throw new SkyDeckException.NotFound("group " + groupId + " does not exist");
            }
            remove(groups, groupId);
        }

        @Override
        public void upsertCheckpoint(Checkpoint checkpoint) {
            check();
            if (!experiments.containsKey(checkpoint.experimentId())) {
                throw new SkyDeckException.NotFound("checkpoint of epoch " + checkpoint.epoch() + " belongs to experiment "
                        + checkpoint.experimentId() + ", which does not exist");
            }
            NavigableMap<Long, Checkpoint> map = checkpoints.get(checkpoint.experimentId());
            if (map == null) {
                map = new TreeMap<>();
                put(checkpoints, checkpoint.experimentId(), map);
            }
            put(map, checkpoint.epoch(), checkpoint);
        }

        @Override
        public Event appendEvent(Event draft) {
            check();
            Event e = draft.withSeq(events.isEmpty() ? 1 : events.get(events.size() - 1).seq() + 1);
            events.add(e);
            undo.push(() -> events.remove(events.size() - 1));
            return e;
        }

        @Override
        public List<Event> appendEvents(List<Event> drafts) {
            List<Event> out = new ArrayList<>(drafts.size());
            for (Event d : drafts) {
                out.add(appendEvent(d));
            }
            return out;
        }

        @Override
        public void putSetting(String key, String value) {
            check();
            java.util.Objects.requireNonNull(key, "key");
            java.util.Objects.requireNonNull(value, "value");
            put(settings, key, value);
        }

        @Override
        public Lease acquireLease(String name, String holder, java.time.Duration ttl, java.time.Instant now,
                                  long staleToken) {
            check();
            Lease current = leases.get(name);
            java.time.Instant until = now.plus(ttl);
            Lease next;
            if (current == null) {
                next = new Lease(name, holder, 1, until);
            } else if (current.heldBy(holder)) {
                next = new Lease(name, holder, current.token(), until);
            } else if (!current.expiresAt().isAfter(now) || (staleToken != 0 && current.token() == staleToken)) {
                next = new Lease(name, holder, current.token() + 1, until);
            } else {
                return current;
            }
            put(leases, name, next);
            return next;
        }

        @Override
        public boolean holdsLease(String name, String holder, long token, java.time.Instant now) {
            check();
            Lease current = leases.get(name);
            return current != null && current.heldBy(holder) && current.token() == token
                    && current.expiresAt().isAfter(now);
        }

        @Override
        public void releaseLease(String name, String holder, java.time.Instant now) {
            check();
            Lease current = leases.get(name);
            if (current != null && current.heldBy(holder)) {
                put(leases, name, new Lease(name, holder, current.token(), now));
            }
        }

        @Override
        public void insertToken(ApiToken token, String sha256Hex) {
            check();
            if (tokens.containsKey(sha256Hex) || tokens.values().stream().anyMatch(t -> t.id().equals(token.id()))) {
                throw new SkyDeckException.Conflict(Reason.ALREADY_RECORDED, "token " + token.id()
                        + " already exists");
            }
            put(tokens, sha256Hex, token);
        }

        @Override
        public boolean revokeToken(String id, java.time.Instant now) {
            check();
            for (Map.Entry<String, ApiToken> e : tokens.entrySet()) {
                ApiToken t = e.getValue();
                if (t.id().equals(id) && t.valid()) {
                    put(tokens, e.getKey(), new ApiToken(t.id(), t.user(), t.createdAt(), now));
                    return true;
                }
            }
            return false;
        }

        @Override
        public Optional<Lease> lease(String name) {
            return InMemoryStore.this.lease(name);
        }

        @Override
        public Optional<ApiToken> tokenByHash(String sha256Hex) {
            return InMemoryStore.this.tokenByHash(sha256Hex);
        }

        @Override
        public List<ApiToken> tokens() {
            return InMemoryStore.this.tokens();
        }

        // reads inside the transaction see its writes (the write lock is held)

        @Override
        public Optional<Experiment> experiment(long id) {
            return InMemoryStore.this.experiment(id);
        }

        @Override
        public Optional<Experiment> experimentByName(String name) {
            return InMemoryStore.this.experimentByName(name);
        }

        @Override
        public List<Experiment> experiments(Collection<Long> ids) {
            return InMemoryStore.this.experiments(ids);
        }

        @Override
        public Map<String, Experiment> experimentsByName(Collection<String> names) {
            return InMemoryStore.this.experimentsByName(names);
        }

        @Override
        public Map<String, Job> jobsByLaunchId(Collection<String> launchIds) {
            return InMemoryStore.this.jobsByLaunchId(launchIds);
        }

        @Override
        public ActiveJobs activeJobStats(String backend) {
            return InMemoryStore.this.activeJobStats(backend);
        }

        @Override
        public List<Job> orphanedCancels() {
            return InMemoryStore.this.orphanedCancels();
        }

        @Override
        public Page<Experiment> experiments(ExperimentQuery query) {
            return InMemoryStore.this.experiments(query);
        }

        @Override
        public dev.skydeck.ExperimentFacets experimentFacets(ExperimentQuery query, int maxValues) {
            return InMemoryStore.this.experimentFacets(query, maxValues);
        }

        @Override
        public dev.skydeck.GroupSummary.All groupSummaries() {
            return InMemoryStore.this.groupSummaries();
        }

        @Override
        public List<Long> experimentIdsToReconcile() {
            return InMemoryStore.this.experimentIdsToReconcile();
        }

        @Override
        public List<Long> experimentIdsUnsettled() {
            return InMemoryStore.this.experimentIdsUnsettled();
        }

        @Override
        public Optional<Job> job(String id) {
            return InMemoryStore.this.job(id);
        }

        @Override
        public Optional<Job> jobByLaunchId(String launchId) {
            return InMemoryStore.this.jobByLaunchId(launchId);
        }

        @Override
        public Map<String, Job> jobsByBackendId(String backend, Collection<String> backendJobIds) {
            return InMemoryStore.this.jobsByBackendId(backend, backendJobIds);
        }

        @Override
        public Page<Job> jobs(JobQuery query) {
            return InMemoryStore.this.jobs(query);
        }

        @Override
        public List<Job> activeJobs() {
            return InMemoryStore.this.activeJobs();
        }

        @Override
        public List<Group> groups() {
            return InMemoryStore.this.groups();
        }

        @Override
        public Optional<Group> group(long id) {
            return InMemoryStore.this.group(id);
        }

        @Override
        public List<Checkpoint> checkpoints(long experimentId, int limit) {
            return InMemoryStore.this.checkpoints(experimentId, limit);
        }

        @Override
        public List<Event> events(EventQuery query) {
            return InMemoryStore.this.events(query);
        }

        @Override
        public long lastEventSeq() {
            return InMemoryStore.this.lastEventSeq();
        }

        @Override
        public Optional<String> setting(String key) {
            return InMemoryStore.this.setting(key);
        }

        @Override
        public StoreCounts counts() {
            return InMemoryStore.this.counts();
        }
    }
}
