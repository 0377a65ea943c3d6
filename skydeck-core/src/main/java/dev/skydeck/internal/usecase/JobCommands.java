package dev.skydeck.internal.usecase;

import dev.skydeck.Actor;
import dev.skydeck.Event;
import dev.skydeck.EventType;
import dev.skydeck.Experiment;
import dev.skydeck.Job;
import dev.skydeck.JobCancel;
import dev.skydeck.SkyDeckException;
import dev.skydeck.SkyDeckException.Conflict.Reason;
import dev.skydeck.internal.Engine;
import dev.skydeck.internal.Writer;
import dev.skydeck.internal.Validate;
import java.io.Reader;
import java.time.Instant;
import java.util.Optional;

/** What users do to jobs. A cancel is intent: it is recorded here and sent by the reconciler. */
public final class JobCommands {
    private final Engine engine;
    private final Writer writer;

    /** Commands over {@code engine}, done for {@code user} ({@code null}: no user). */
    public JobCommands(Engine engine, String user) {
        this.engine = engine;
        this.writer = engine.writer().as(user);
    }

    /**
     * Records a cancel for an active job and returns at once; the reconciler sends it and the
     * poller sees the job end. Asking again changes nothing.
     *
     * @throws SkyDeckException.Conflict ({@link Reason#JOB_ENDED}) when the job has ended,
     *         ({@link Reason#OTHER_BACKEND}) when it belongs to a backend this SkyDeck does not run
     */
    public Job cancel(String jobId) {
        Instant now = engine.clock().instant();
        Object[] owner = new Object[1];
        Job written = writer.write(w -> {
            Job current = w.tx().job(jobId).orElseThrow(() -> new SkyDeckException.NotFound("no job with id " + jobId));
            if (!current.isActive()) {
                throw new SkyDeckException.Conflict(Reason.JOB_ENDED, "job " + current.id() + " has already ended ("
                        + current.status() + ")");
            }
            if (!current.backend().equals(engine.backend().kind())) {
                throw new SkyDeckException.Conflict(Reason.OTHER_BACKEND, "job " + current.id() + " belongs to the "
                        + current.backend() + " backend and this SkyDeck runs the " + engine.backend().kind()
                        + " one: it is left as it is; cancel it where the " + current.backend() + " backend is used");
            }
            Optional<Experiment> e = w.tx().experimentByName(current.experimentName());
            owner[0] = e.orElse(null);
            if (current.cancelRequested()) {
                return current;
            }
            Job updated = w.tx().updateJob(current.withCancel(JobCancel.requested(now, Actor.USER), now));
            w.event(new Event(0, now, Actor.USER, EventType.CANCEL, e.map(Experiment::id).orElse(null),
                    current.experimentName(), current.id(), true, "cancel requested for job "
                    + (current.backendJobId() != null ? current.backendJobId() : current.id()), null));
            return updated;
        });
        if (owner[0] instanceof Experiment e) {
            engine.reconciler().enqueue(e.id());
        } else {
            engine.reconciler().enqueueOrphan(written.id());
        }
        return written;
    }

    /** A job's log: the last {@code tail} lines (0 for all), then new lines while {@code follow}. */
    public Reader logs(String jobId, int tail, boolean follow) {
        Job current = readable(jobId, tail);
        return engine.backend().logs(current.backendJobId(), tail, follow);
    }

    /** The backend controller's log for a job, like {@link #logs}. */
    public Reader controllerLogs(String jobId, int tail, boolean follow) {
        Job current = readable(jobId, tail);
        return engine.backend().controllerLogs(current.backendJobId(), tail, follow);
    }

    /** The job, when this SkyDeck's backend can read its logs. */
    private Job readable(String jobId, int tail) {
        Job current = engine.store().job(jobId).orElseThrow(() -> new SkyDeckException.NotFound("no job with id " + jobId));
        if (current.backendJobId() == null) {
            throw new SkyDeckException.Conflict(Reason.OTHER, "job " + current.id()
                    + " has no log yet: it was never submitted");
        }
        if (!current.backend().equals(engine.backend().kind())) {
            throw new SkyDeckException.Conflict(Reason.OTHER_BACKEND, "job " + current.id() + " ran on the " + current.backend()
                    + " backend, and this SkyDeck runs the " + engine.backend().kind()
                    + " one: its log can be read where that backend is configured");
        }
        if (tail < 0) {
            throw Validate.invalid("tail " + tail + " is not allowed: use 0 (everything) or more");
        }
        return current;
    }
}
