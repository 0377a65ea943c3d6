package dev.skydeck.spi;

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
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The reads a {@link Store} offers, outside and inside a write transaction. Every read is a
 * constant number of statements whatever the number of rows it returns.
 *
 * <p>Experiments come back with {@link Experiment#currentState()} derived by
 * {@link dev.skydeck.ExperimentStatus#currentState} from their latest job (by creation time, then
 * id), {@link Experiment#latestEpoch()} from their present checkpoints, and
 * {@link Experiment#drifted()} true when their active SkyDeck launch has a
 * {@link Job#configHash()} other than their spec's {@link dev.skydeck.ExperimentSpec#configHash()}.
 */
public interface StoreReads {
    /** An experiment by id, deleted or not. */
    Optional<Experiment> experiment(long id);

    /** The live (not deleted) experiment with this name. */
    Optional<Experiment> experimentByName(String name);

    /** Live experiments by name, in one read; names no live experiment has are absent from the map. */
    Map<String, Experiment> experimentsByName(Collection<String> names);

    /** Experiments by id, deleted or not, in no particular order; unknown ids are skipped. */
    List<Experiment> experiments(Collection<Long> ids);

    /** A filtered, sorted page of experiments with the total count. */
    Page<Experiment> experiments(ExperimentQuery query);

    /**
     * Counts for the filters of {@code query} (its sort and page ignored), at most
     * {@code maxValues} values per flag; a constant number of statements. The default reads every
     * matching experiment: stores override it.
     */
    default dev.skydeck.ExperimentFacets experimentFacets(ExperimentQuery query, int maxValues) {
        return matching().facets(everyExperiment(query.includeDeleted()), query, maxValues);
    }

    /**
     * Every group, in order, without its members: counts, states and shared flags of its live
     * members, and the same for live experiments in no group; a constant number of statements.
     * The default reads every experiment: stores override it.
     */
    default dev.skydeck.GroupSummary.All groupSummaries() {
        return matching().summaries(everyExperiment(false));
    }

    private dev.skydeck.internal.ExperimentMatching matching() {
        return new dev.skydeck.internal.ExperimentMatching(groups(), e -> {
            List<Job> latest = jobs(new JobQuery(null, null, null, e.name(), 1, 0)).items();
            return latest.isEmpty() ? null : latest.get(0).startedAt();
        });
    }

    private List<Experiment> everyExperiment(boolean deleted) {
        List<Experiment> all = new java.util.ArrayList<>();
        ExperimentQuery q = ExperimentQuery.ALL.withDeleted(deleted);
        for (int offset = 0; ; offset += 10_000) {
            Page<Experiment> page = experiments(q.page(10_000, offset));
            all.addAll(page.items());
            if (page.items().size() < 10_000) {
                return all;
            }
        }
    }

    /** Ids of every experiment the reconciler must look at: live ones, and deleted ones with an active job. */
    List<Long> experimentIdsToReconcile();

    /**
     * Ids of the experiments a periodic resync must look at although nothing is known to have
     * changed: live ones the reconciler has not settled for their current generation and desired
     * state (something active, queued or due), and any with an active job. A settled experiment
     * needs a pass only when it changes, which enqueues it.
     */
    List<Long> experimentIdsUnsettled();

    /** A job by SkyDeck id. */
    Optional<Job> job(String id);

    /** A job by launch id. */
    Optional<Job> jobByLaunchId(String launchId);

    /** Jobs by launch id, in one read; unknown ids are absent from the map. */
    Map<String, Job> jobsByLaunchId(Collection<String> launchIds);

    /** Jobs of one backend by the backend's ids; unknown ids are absent from the map. */
    Map<String, Job> jobsByBackendId(String backend, Collection<String> backendJobIds);

    /** A filtered page of jobs, newest first (by creation time, then id). */
    Page<Job> jobs(JobQuery query);

    /** Every active job (status not terminal). */
    List<Job> activeJobs();

    /**
     * What the active jobs of one backend kind hold, for the launch queue and the poller: one
     * aggregate read, whatever the number of jobs. Jobs of other backends (imported, or written by
     * a SkyDeck on another backend) hold nothing of this one's.
     */
    ActiveJobs activeJobStats(String backend);

    /** Active jobs with a cancel asked for whose name no live experiment has (orphans), oldest request first. */
    List<Job> orphanedCancels();

    /** Every group, in order, with its members in order. */
    List<Group> groups();

    /** A group by id. */
    Optional<Group> group(long id);

    /** Checkpoints of an experiment, highest epoch first, including ones marked gone. */
    List<Checkpoint> checkpoints(long experimentId, int limit);

    /** A slice of the event log. */
    List<Event> events(EventQuery query);

    /** The highest event sequence number, or 0. */
    long lastEventSeq();

    /** A stored setting. */
    Optional<String> setting(String key);

    /** Counts for health: live experiments and active jobs. */
    StoreCounts counts();

    /** A lease by name, held or lapsed, or empty when nobody ever took it. */
    Optional<Lease> lease(String name);

    /** The token whose secret has this SHA-256 hash (lower-case hex), valid or revoked. */
    Optional<ApiToken> tokenByHash(String sha256Hex);

    /** Every token, valid and revoked, oldest first. */
    List<ApiToken> tokens();

    /**
     * What active jobs hold.
     *
     * @param active    active jobs
     * @param launching active jobs still launching: {@code INIT}, {@code PENDING} or {@code STARTING}
     * @param gpus      GPUs held by active jobs ({@code nodes × gpus} summed)
     */
    record ActiveJobs(long active, long launching, long gpus) {
    }

    /**
     * Counts for health.
     *
     * @param experiments live experiments
     * @param activeJobs  active jobs
     */
    record StoreCounts(long experiments, long activeJobs) {
    }
}
