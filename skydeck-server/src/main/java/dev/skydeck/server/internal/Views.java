package dev.skydeck.server.internal;

import dev.skydeck.BulkResult;
import dev.skydeck.Checkpoint;
import dev.skydeck.CommandLine;
import dev.skydeck.DesiredState;
import dev.skydeck.Event;
import dev.skydeck.Experiment;
import dev.skydeck.ExperimentSpec;
import dev.skydeck.ExperimentStatus;
import dev.skydeck.FlagSpec;
import dev.skydeck.Group;
import dev.skydeck.Health;
import dev.skydeck.Job;
import dev.skydeck.JobStage;
import dev.skydeck.JobStatus;
import dev.skydeck.Resources;
import dev.skydeck.RestartPolicy;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * The JSON shapes of the REST API: flat, snake_case records built from the domain. Nothing here
 * is read from requests (see {@link Body}); these are only written.
 */
public final class Views {
    private Views() {
    }

    /** An experiment as the API shows it. */
    public record ExperimentView(long id, String name, Map<String, Object> flags, String baseCommand, String toolPath,
                                 String gitBranch, Integer nodes, int gpus, ResourcesView resources,
                                 DesiredState desiredState, JobStatus currentState, RestartPolicyView restartPolicy,
                                 int priority, String description, List<String> tags, String taskTemplate,
                                 String runName, boolean starred, int order, boolean expanded, boolean deleted, Instant createdAt,
                                 Instant updatedAt, long version, long generation, StatusView status,
                                 Long latestEpoch, Instant startedAt, boolean drifted, String command,
                                 String createdBy,
                                 String startedBy) {
        /** The view of {@code e}. */
        public static ExperimentView of(Experiment e) {
            var s = e.spec();
            return new ExperimentView(e.id(), s.name(), s.flags(), s.baseCommand(), s.toolPath(), s.gitBranch(),
                    s.nodes(), s.gpus(), ResourcesView.of(s.resources()), s.desiredState(), e.currentState(),
                    RestartPolicyView.of(s.restartPolicy()), s.priority(), s.description(), s.tags(),
                    s.taskTemplate(), s.runName(), e.starred(), e.order(), e.expanded(), e.deleted(), e.createdAt(),
                    e.updatedAt(), e.version(), e.generation(), StatusView.of(e.status()), e.latestEpoch(),
                    e.latestStartedAt(), e.drifted(), CommandLine.render(CommandLine.build(s)), e.createdBy(), e.startedBy());
        }

        /** The views of many. */
        public static List<ExperimentView> of(List<Experiment> list) {
            return list.stream().map(ExperimentView::of).toList();
        }

        /**
         * The list form of {@code e} (written with {@link Json#LIST}): without the derived and large
         * fields {@code command} and {@code task_template}, and without these at their defaults:
         * {@code base_command} ({@code lt}), {@code nodes} (1), {@code resources} (any machine),
         * {@code restart_policy} (never), {@code updated_at} (when it equals {@code created_at}: never
         * changed), {@code status.observed_generation} and
         * {@code status.observed_desired} (the experiment's {@code generation} and
         * {@code desired_state}). The dashboard reads the rest from {@code GET /api/experiments/{id}}.
         */
        public static ExperimentView listItem(Experiment e) {
            var s = e.spec();
            ExperimentStatus st = e.status();
            StatusView status = st == null ? null : new StatusView(st.stage(), st.stateReason(),
                    st.observedGeneration() == e.generation() ? null : st.observedGeneration(),
                    st.observedDesired() == s.desiredState() ? null : st.observedDesired(), st.launchRetries(),
                    st.nextAttemptAt(), st.settled());
            return new ExperimentView(e.id(), s.name(), s.flags(),
                    ExperimentSpec.DEFAULT_BASE_COMMAND.equals(s.baseCommand()) ? null : s.baseCommand(), s.toolPath(),
                    s.gitBranch(), s.nodes() == 1 ? null : s.nodes(), s.gpus(),
                    Resources.ANY.equals(s.resources()) ? null : ResourcesView.of(s.resources()),
                    s.desiredState(), e.currentState(),
                    RestartPolicy.NEVER.equals(s.restartPolicy()) ? null : RestartPolicyView.of(s.restartPolicy()),
                    s.priority(), s.description(), s.tags(), null, s.runName(), e.starred(), e.order(), e.expanded(),
                    e.deleted(), e.createdAt(), e.updatedAt().equals(e.createdAt()) ? null : e.updatedAt(), e.version(),
                    e.generation(), status, e.latestEpoch(), e.latestStartedAt(), e.drifted(), null, e.createdBy(),
                    e.startedBy());
        }
    }

    /** Where a job runs. */
    public record ResourcesView(String cloud, String region, String instanceType, String accelerator, boolean spot,
                                String pool) {
        static ResourcesView of(Resources r) {
            return r == null ? null : new ResourcesView(r.cloud(), r.region(), r.instanceType(), r.accelerator(),
                    r.spot(), r.pool());
        }
    }

    /** When a job's end allows another attempt. */
    public record RestartPolicyView(RestartPolicy.Mode mode, int maxRestarts, long backoffSeconds,
                                    long maxBackoffSeconds) {
        static RestartPolicyView of(RestartPolicy p) {
            return new RestartPolicyView(p.mode(), p.maxRestarts(), p.backoff().toSeconds(), p.maxBackoff().toSeconds());
        }
    }

    /** What the reconciler observed. */
    public record StatusView(JobStage stage, String stateReason, Long observedGeneration,
                             DesiredState observedDesired, int launchRetries, Instant nextAttemptAt,
                             boolean settled) {
        static StatusView of(ExperimentStatus s) {
            return s == null ? null : new StatusView(s.stage(), s.stateReason(), s.observedGeneration(),
                    s.observedDesired(), s.launchRetries(), s.nextAttemptAt(), s.settled());
        }
    }

    /** A cancel asked for and how far it got. */
    public record CancelView(Instant requestedAt, String requestedBy, Instant sentAt, int attempts) {
        static CancelView of(dev.skydeck.JobCancel c) {
            return c == null ? null : new CancelView(c.requestedAt(), c.requestedBy().name(), c.sentAt(), c.attempts());
        }
    }

    /** What apply did with one item. */
    public record ApplyView(String name, String outcome, List<String> changed, ExperimentView experiment) {
        /** The view of {@code r}. */
        public static ApplyView of(dev.skydeck.ApplyResult r) {
            return new ApplyView(r.name(), r.outcome().name().toLowerCase(java.util.Locale.ROOT), r.changed(),
                    ExperimentView.of(r.experiment()));
        }
    }

    /** One job, with exactly what it ran with. */
    public record JobView(String id, String experimentName, String backend, String backendJobId, String launchId,
                          String launchRef, JobStatus status, boolean active, String backendStatus, String failureReason, String details,
                          JobStage stage, Instant stageSince, int attempt, long generation, List<String> command,
                          String commandLine, Map<String, Object> flags, int nodes, int gpus, ResourcesView resources,
                          String gitRef, Instant createdAt, Instant submittedAt, Instant startedAt, Instant endedAt,
                          Integer exitCode, int recoveryCount, String clusterName, String cloud, String region,
                          String configHash, CancelView cancel, Instant updatedAt, String launchedBy) {
        /** The view of {@code j}. */
        public static JobView of(Job j) {
            return new JobView(j.id(), j.experimentName(), j.backend(), j.backendJobId(), j.launchId(), j.launchRef(),
                    j.status(),
                    j.isActive(), j.backendStatus(), j.failureReason(), j.details(), j.stage(), j.stageSince(),
                    j.attempt(), j.generation(), j.command(), CommandLine.render(j.command()), j.flags(), j.nodes(),
                    j.gpus(), ResourcesView.of(j.resources()), j.gitRef(), j.createdAt(), j.submittedAt(),
                    j.startedAt(), j.endedAt(), j.exitCode(), j.recoveryCount(), j.clusterName(), j.cloud(),
                    j.region(), j.configHash(), CancelView.of(j.cancel()), j.updatedAt(), j.launchedBy());
        }

        /** The views of many. */
        public static List<JobView> of(List<Job> list) {
            return list.stream().map(JobView::of).toList();
        }
    }

    /** A group, with its members in order. */
    public record GroupView(long id, String name, String namePrefix, List<String> flags, int order, boolean collapsed,
                            List<Long> experimentIds, List<?> experiments) {
        /**
         * The view of {@code g}, its members taken from {@code byId} (views or their JSON; missing
         * ones left out).
         */
        public static GroupView of(Group g, Map<Long, ?> byId) {
            List<?> members = byId == null ? null
                    : g.experimentIds().stream().map(byId::get).filter(java.util.Objects::nonNull).toList();
            return new GroupView(g.id(), g.name(), g.namePrefix(), g.flags(), g.order(), g.collapsed(),
                    g.experimentIds(), members);
        }
    }

    /** One checkpoint. */
    public record CheckpointView(long experimentId, long epoch, String modelPath, List<String> replayPaths,
                                 String policyVersion, long sizeBytes, Instant createdAt, Instant syncedAt,
                                 Instant goneAt) {
        /** The view of {@code c}. */
        public static CheckpointView of(Checkpoint c) {
            return new CheckpointView(c.experimentId(), c.epoch(), c.modelPath(), c.replayPaths(), c.policyVersion(),
                    c.sizeBytes(), c.createdAt(), c.syncedAt(), c.goneAt());
        }
    }

    /** One entry of the operations log. */
    public record EventView(long seq, Instant time, String actor, String type, Long experimentId,
                            String experimentName, String jobId, boolean success, String message, String detail,
                            String user) {
        /** The view of {@code e}. */
        public static EventView of(Event e) {
            return new EventView(e.seq(), e.time(), e.actor().name(), e.type().name(), e.experimentId(),
                    e.experimentName(), e.jobId(), e.success(), e.message(), e.detail(), e.user());
        }

        /** The views of many. */
        public static List<EventView> of(List<Event> list) {
            return list.stream().map(EventView::of).toList();
        }
    }

    /** One item of a bulk action. */
    public record BulkItemView(Long id, String ref, boolean ok, String detail, ExperimentView experiment) {
        /** The view of {@code r}, asked for as {@code ref}. */
        public static BulkItemView of(String ref, BulkResult r) {
            return new BulkItemView(r.id(), ref, r.ok(), r.message(),
                    r.experiment() == null ? null : ExperimentView.of(r.experiment()));
        }
    }

    /** What is known about one flag. */
    public record FlagView(String key, String type, Object defaultValue, boolean required, String description,
                           List<String> choices, List<Object> observedValues, long observedCount, boolean declared) {
        /** The view of {@code f}. */
        public static FlagView of(FlagSpec f) {
            return new FlagView(f.key(), f.type().name(), f.defaultValue(), f.required(), f.description(), f.choices(),
                    f.observedValues(), f.observedCount(), f.declared());
        }
    }

    /** The health of one background component. */
    public record ComponentView(Instant lastSuccess, Double staleSeconds, Instant lastFailure, String lastError) {
        static ComponentView of(Health.Component c, Instant now) {
            Double stale = c.lastSuccess() == null ? null
                    : Duration.between(c.lastSuccess(), now).toMillis() / 1000.0;
            return new ComponentView(c.lastSuccess(), stale, c.lastFailure(), c.lastError());
        }
    }

    /** The server's health. */
    public record HealthView(String status, String version, String store, BackendView backend,
                             String checkpointSource, ComponentView poller, ComponentView reconciler,
                             ComponentView syncer, long experiments, long activeJobs, int waits, Instant time,
                             double uptimeSeconds, EngineView engine) {
        /** The view of {@code h} at {@code now}. */
        public static HealthView of(Health h, Instant now, double uptimeSeconds) {
            String status = h.backendHealthy() && h.poller().lastError() == null ? "ok" : "degraded";
            return new HealthView(status, h.version(), h.store(),
                    new BackendView(h.backendKind(), h.backendReason(), h.backendHealthy(), h.backendDetail()),
                    h.checkpointSource(), ComponentView.of(h.poller(), now), ComponentView.of(h.reconciler(), now),
                    ComponentView.of(h.syncer(), now), h.experiments(), h.activeJobs(), h.waits(), now, uptimeSeconds,
                    EngineView.of(h.engine()));
        }
    }

    /**
     * Which process drives the engine (reconciler, poller, syncer) of this store: {@code leader}
     * when this one does, {@code standby} when another process holds the lease.
     */
    public record EngineView(String role, String process, Instant since, String leader) {
        static EngineView of(Health.Engine e) {
            return e == null ? null : new EngineView(e.leader() ? "leader" : "standby", e.holder(), e.since(),
                    e.leader() ? e.holder() : e.other());
        }
    }

    /** Who the caller is: {@code user} is {@code null} on a deck without users. */
    public record MeView(String user, boolean usersEnabled) {
    }

    /** An API token as listed: never its secret. */
    public record TokenView(String id, String user, Instant createdAt, Instant revokedAt, boolean valid) {
        /** The view of {@code t}. */
        public static TokenView of(dev.skydeck.ApiToken t) {
            return new TokenView(t.id(), t.user(), t.createdAt(), t.revokedAt(), t.valid());
        }
    }

    /** Which backend runs jobs, why it was chosen, and whether it answers. */
    public record BackendView(String kind, String reason, boolean healthy, String detail) {
    }
}
