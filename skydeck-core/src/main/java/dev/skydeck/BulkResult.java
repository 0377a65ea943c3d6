package dev.skydeck;

/**
 * The outcome of a bulk action for one experiment.
 *
 * @param id         the experiment id asked for
 * @param ok         whether the action succeeded for it (also when there was nothing to do)
 * @param message    what happened ("unchanged: …" when nothing needed doing), or why it failed
 * @param experiment the experiment after the action (for duplicate: the copy), or {@code null}
 */
public record BulkResult(long id, boolean ok, String message, Experiment experiment) {
}
