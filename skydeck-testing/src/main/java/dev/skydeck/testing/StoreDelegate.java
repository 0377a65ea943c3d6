package dev.skydeck.testing;

import dev.skydeck.ApiToken;
import dev.skydeck.Checkpoint;
import dev.skydeck.Event;
import dev.skydeck.EventQuery;
import dev.skydeck.Experiment;
import dev.skydeck.ExperimentQuery;
import dev.skydeck.Group;
import dev.skydeck.Job;
import dev.skydeck.JobQuery;
import dev.skydeck.Page;
import dev.skydeck.spi.Lease;
import dev.skydeck.spi.Store;
import dev.skydeck.spi.StoreTx;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/** A {@link Store} that forwards everything: extend it to count or fail calls in tests. */
public class StoreDelegate implements Store {
    private final Store inner;

    /** Forwards to {@code inner}. */
    public StoreDelegate(Store inner) {
        this.inner = inner;
    }

    @Override
    public <T> T write(Function<StoreTx, T> work) {
        return inner.write(work);
    }

    @Override
    public String describe() {
        return inner.describe();
    }

    @Override
    public void close() {
        inner.close();
    }

    @Override
    public Optional<Experiment> experiment(long id) {
        return inner.experiment(id);
    }

    @Override
    public Optional<Experiment> experimentByName(String name) {
        return inner.experimentByName(name);
    }

    @Override
    public List<Experiment> experiments(Collection<Long> ids) {
        return inner.experiments(ids);
    }

    @Override
    public Map<String, Experiment> experimentsByName(Collection<String> names) {
        return inner.experimentsByName(names);
    }

    @Override
    public Map<String, Job> jobsByLaunchId(Collection<String> launchIds) {
        return inner.jobsByLaunchId(launchIds);
    }

    @Override
    public ActiveJobs activeJobStats(String backend) {
        return inner.activeJobStats(backend);
    }

    @Override
    public List<Job> orphanedCancels() {
        return inner.orphanedCancels();
    }

    @Override
    public dev.skydeck.Subscription onExternalCommit(Runnable listener) {
        return inner.onExternalCommit(listener);
    }

    @Override
    public Page<Experiment> experiments(ExperimentQuery query) {
        return inner.experiments(query);
    }

    @Override
    public dev.skydeck.ExperimentFacets experimentFacets(ExperimentQuery query, int maxValues) {
        return inner.experimentFacets(query, maxValues);
    }

    @Override
    public dev.skydeck.GroupSummary.All groupSummaries() {
        return inner.groupSummaries();
    }

    @Override
    public List<Long> experimentIdsToReconcile() {
        return inner.experimentIdsToReconcile();
    }

    @Override
    public List<Long> experimentIdsUnsettled() {
        return inner.experimentIdsUnsettled();
    }

    @Override
    public Optional<Job> job(String id) {
        return inner.job(id);
    }

    @Override
    public Optional<Job> jobByLaunchId(String launchId) {
        return inner.jobByLaunchId(launchId);
    }

    @Override
    public Map<String, Job> jobsByBackendId(String backend, Collection<String> backendJobIds) {
        return inner.jobsByBackendId(backend, backendJobIds);
    }

    @Override
    public Page<Job> jobs(JobQuery query) {
        return inner.jobs(query);
    }

    @Override
    public List<Job> activeJobs() {
        return inner.activeJobs();
    }

    @Override
    public List<Group> groups() {
        return inner.groups();
    }

    @Override
    public Optional<Group> group(long id) {
        return inner.group(id);
    }

    @Override
    public List<Checkpoint> checkpoints(long experimentId, int limit) {
        return inner.checkpoints(experimentId, limit);
    }

    @Override
    public List<Event> events(EventQuery query) {
        return inner.events(query);
    }

    @Override
    public long lastEventSeq() {
        return inner.lastEventSeq();
    }

    @Override
    public Optional<String> setting(String key) {
        return inner.setting(key);
    }

    @Override
    public StoreCounts counts() {
        return inner.counts();
    }

    @Override
    public Optional<Lease> lease(String name) {
        return inner.lease(name);
    }

    @Override
    public Optional<ApiToken> tokenByHash(String sha256Hex) {
        return inner.tokenByHash(sha256Hex);
    }

    @Override
    public List<ApiToken> tokens() {
        return inner.tokens();
    }
}
