package dev.skydeck.spi;

import dev.skydeck.ApiToken;
import dev.skydeck.Checkpoint;
import dev.skydeck.Event;
import dev.skydeck.Experiment;
import dev.skydeck.ExperimentSpec;
import dev.skydeck.ExperimentStatus;
import dev.skydeck.Group;
import dev.skydeck.Job;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * The writes of one {@link Store#write} transaction. Reads through it see its own writes. A
 * write that throws leaves the transaction to be rolled back by {@link Store#write}.
 */
public interface StoreTx extends StoreReads {
    /**
     * Inserts an experiment with version 1 and generation 1, at the end of the order, created by
     * {@code createdBy} (also its {@code startedBy} when it is created RUNNING), or by no user.
     *
     * @throws dev.skydeck.SkyDeckException.Conflict when a live experiment has that name
     */
    Experiment insertExperiment(ExperimentSpec spec, Instant now, String createdBy);

    /** Inserts an experiment no user created (see {@link #insertExperiment(ExperimentSpec, Instant, String)}). */
    default Experiment insertExperiment(ExperimentSpec spec, Instant now) {
        return insertExperiment(spec, now, null);
    }

    /**
     * Inserts an experiment exactly as given, for imports from another database: its id, spec,
     * presentation (starred, order, expanded), soft delete, creation and update times, version and
     * generation. Its status starts as {@link ExperimentStatus#NEW}; what the store derives (current
     * state, latest epoch, drift) comes from the jobs and checkpoints it has. Experiments inserted
     * afterwards get higher ids.
     *
     * @throws dev.skydeck.SkyDeckException.Conflict ({@code ALREADY_RECORDED}) when an experiment has
     *         that id, ({@code NAME_TAKEN}) when it is live and a live experiment has its name
     */
    Experiment importExperiment(Experiment experiment);

    /**
     * Writes a user change: the spec, {@code starred}, {@code order}, {@code expanded},
     * {@code deleted}, {@code generation} and {@code startedBy} of {@code changed}. The stored version must equal
     * {@code changed.version()}; it becomes one higher. (Presentation alone goes through
     * {@link #updatePresentation}, which leaves the version as it is.)
     *
     * @throws dev.skydeck.SkyDeckException.NotFound when there is no such experiment
     * @throws dev.skydeck.SkyDeckException.Conflict on a stale version, or a name taken by another live experiment
     */
    Experiment updateExperiment(Experiment changed, Instant now);

    /**
     * Writes how an experiment is shown (starred, expanded, its position); no version or
     * {@code updated_at} change.
     *
     * @throws dev.skydeck.SkyDeckException.NotFound when there is no such experiment
     */
    void updatePresentation(long experimentId, boolean starred, boolean expanded, int order);

    /** Writes the reconciler's observations; no version change. */
    void updateStatus(long experimentId, ExperimentStatus status);

    /** Sets {@code order} of the given experiments to their position in the list; no version change. */
    void reorderExperiments(List<Long> ids);

    /**
     * Inserts a job.
     *
     * @throws dev.skydeck.SkyDeckException.Conflict when the job is active, has a launch id, and its
     *         experiment already has an active job with a launch id (at most one active SkyDeck launch
     *         per experiment, enforced by the store)
     */
    Job insertJob(Job job);

    /** Replaces a stored job (found by id) with {@code job}. */
    Job updateJob(Job job);

    /**
     * Replaces many stored jobs in one statement (a poll's changes).
     *
     * @throws dev.skydeck.SkyDeckException.NotFound when one of them does not exist (nothing is written)
     */
    void updateJobs(List<Job> jobs);

    /** Inserts a group at the end of the order, with its members. */
    Group insertGroup(Group group);

    /**
     * Inserts a group exactly as given, for imports from another database: its id, order and members
     * in order. Groups inserted afterwards get higher ids.
     *
     * @throws dev.skydeck.SkyDeckException.Conflict ({@code ALREADY_RECORDED}) when a group has that id
     * @throws dev.skydeck.SkyDeckException.NotFound when a member does not exist (nothing is written)
     */
    Group importGroup(Group group);

    /** Writes a group's fields and its members (in order). */
    Group updateGroup(Group group);

    /** Deletes a group (its experiments stay). */
    void deleteGroup(long groupId);

    /** Inserts or replaces the checkpoint for (experiment, epoch). */
    void upsertCheckpoint(Checkpoint checkpoint);

    /**
     * Appends an event; returns it with its sequence number. Sequence numbers follow commit order
     * without gaps: a reader that sees event {@code n} has every event before it, so a reader
     * tailing {@code seq > last} never misses one (the store serialises writers that append).
     */
    Event appendEvent(Event draft);

    /** Appends many events, in order, in one statement; returns them with their sequence numbers. */
    List<Event> appendEvents(List<Event> drafts);

    /** Stores a setting. */
    void putSetting(String key, String value);

    /**
     * Takes or renews a lease, and returns it as it stands afterwards (held by someone else when
     * it could not be taken). {@code holder} renews a lease it holds (same token, even lapsed: nobody
     * else took it), and takes one that is free, lapsed, or held under {@code staleToken} by a holder
     * the caller knows is gone (its token becomes one higher). Expiry is measured by the store's
     * clock: the database server's for a database several machines share, else {@code now}.
     *
     * @param staleToken the token of a holder known to be gone, or {@code 0}
     */
    Lease acquireLease(String name, String holder, Duration ttl, Instant now, long staleToken);

    /**
     * Whether {@code holder} holds the lease under {@code token} and it has not lapsed (by the
     * store's clock, see {@link #acquireLease}); a write made for the lease's holder checks this
     * in its own transaction, so a holder that lost the lease writes nothing.
     */
    boolean holdsLease(String name, String holder, long token, Instant now);

    /** Gives up a lease {@code holder} holds (it lapses at once); does nothing otherwise. */
    void releaseLease(String name, String holder, Instant now);

    /**
     * Stores a token under the SHA-256 hash (lower-case hex) of its secret.
     *
     * @throws dev.skydeck.SkyDeckException.Conflict when the id or the hash is taken
     */
    void insertToken(ApiToken token, String sha256Hex);

    /** Revokes a valid token; returns whether it was valid. */
    boolean revokeToken(String id, Instant now);
}
