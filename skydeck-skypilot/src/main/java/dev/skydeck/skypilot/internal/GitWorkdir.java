package dev.skydeck.skypilot.internal;

import dev.skydeck.SkyDeckException;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A git repository as a managed job's workdir. The job's cluster clones it with
 * {@code sky/utils/git_clone.sh}, which reads only envs: {@code GIT_URL} and one of
 * {@code GIT_BRANCH}, {@code GIT_TAG}, {@code GIT_COMMIT_HASH}, plus {@code GIT_TOKEN} (https) or
 * {@code GIT_SSH_KEY} (ssh) from the task's secrets; without {@code GIT_URL} it clones nothing.
 * The official CLI fills them on the client ({@code Task.update_envs_and_secrets_from_workdir});
 * so does this class, without running git: the URL is normalised as {@code sky/utils/git.py}
 * does ({@code https://host[:port]/path.git} or {@code ssh://user@host[:port]/path.git}, any
 * credentials in the URL dropped), and the ref is typed by its form (below) instead of by
 * {@code git ls-remote}.
 *
 * @param url      the repository as configured (credentials removed)
 * @param protocol {@code https} or {@code ssh}
 * @param host     the host
 * @param port     the port, or -1
 * @param user     the ssh user, or {@code null}
 * @param path     the repository path without {@code .git}
 */
public record GitWorkdir(String url, String protocol, String host, int port, String user, String path) {
    private static final Pattern HTTPS = Pattern.compile("^(https?)://(?:([^@]+)@)?([^:/]+)(?::(\\d+))?/(.+)$");
    private static final Pattern SSH = Pattern.compile("^ssh://(?:([^@]+)@)?([^:/]+)(?::(\\d+))?/(.+)$");
    private static final Pattern SCP = Pattern.compile("^(?:([^@]+)@)?([^:/]+):(.+)$");
    private static final Pattern COMMIT = Pattern.compile("[0-9a-f]{7,64}");

    /**
     * Parses a git URL in any form git and SkyPilot accept: {@code https://host/owner/repo(.git)},
     * {@code ssh://user@host[:port]/owner/repo}, {@code user@host:owner/repo}.
     *
     * @param source what configured it, for the error ({@code SKYDECK_GIT_REPO}, the task template)
     * @throws SkyDeckException.InvalidInput when it is none of those
     */
    public static GitWorkdir parse(String raw, String source) {
        String clean = raw.strip();
        while (clean.endsWith("/")) {
            clean = clean.substring(0, clean.length() - 1);
        }
        if (clean.endsWith(".git")) {
            clean = clean.substring(0, clean.length() - 4);
        }
        Matcher m = HTTPS.matcher(clean);
        if (m.matches()) {
            String display = m.group(1) + "://" + m.group(3) + (m.group(4) == null ? "" : ":" + m.group(4)) + "/"
                    + m.group(5) + ".git";
            return new GitWorkdir(display, "https", m.group(3), port(m.group(4)), null, m.group(5));
        }
        m = SSH.matcher(clean);
        if (m.matches()) {
            return new GitWorkdir(raw.strip(), "ssh", m.group(2), port(m.group(3)), m.group(1), m.group(4));
        }
        m = SCP.matcher(clean);
        if (m.matches() && !clean.contains("://")) {
            return new GitWorkdir(raw.strip(), "ssh", m.group(2), -1, m.group(1), m.group(3));
        }
        throw new SkyDeckException.InvalidInput("the git repository '" + redact(raw) + "' from " + source
                + " is not a git URL: use https://host/owner/repo, ssh://user@host/owner/repo or user@host:owner/repo");
    }

    private static int port(String s) {
        return s == null ? -1 : Integer.parseInt(s);
    }

    /** The URL without any {@code user:password@} part, for messages. */
    public static String redact(String url) {
        return url.replaceAll("(https?://)[^@/]+@", "$1");
    }

    /** Whether the configured URL carried credentials (they are never sent: use {@code GIT_TOKEN}). */
    public static boolean hasCredentials(String raw) {
        return raw.strip().matches("(?i)^https?://[^/@]+@.*");
    }

    /**
     * {@code GIT_URL} as the official client sets it ({@code GitRepo.get_repo_clone_info}): the
     * https form, unless the repository is an ssh one and an ssh key is given, then the full ssh
     * form. (The client probes public https access first and uses it when it works; without
     * running git, an ssh repository without a key is cloned over https, which works for a public
     * one and fails on the cluster with git's message for a private one.)
     */
    public String cloneUrl(boolean withSshKey) {
        String portPart = port < 0 || protocol.equals("ssh") && !withSshKey ? "" : ":" + port;
        return protocol.equals("https") || !withSshKey ? "https://" + host + portPart + "/" + path + ".git"
                : "ssh://" + (user == null ? "git" : user) + "@" + host + portPart + "/" + path + ".git";
    }

    /**
     * The envs that make the cluster clone this repository at {@code ref} ({@code null}: the
     * default branch), over ssh when {@code withSshKey}, else over https. A ref is typed by its form:
     * {@code refs/tags/X} a tag, {@code refs/heads/X}
     * a branch, 7 to 64 lowercase hex digits a commit, anything else a branch name (which
     * {@code git clone --branch} also accepts for a tag).
     */
    public Map<String, String> envs(String ref, boolean withSshKey) {
        Map<String, String> envs = new LinkedHashMap<>();
        envs.put("GIT_URL", cloneUrl(withSshKey));
        if (ref == null || ref.isBlank()) {
            return envs;
        }
        String r = ref.strip();
        if (r.startsWith("refs/tags/")) {
            envs.put("GIT_TAG", r.substring("refs/tags/".length()));
        } else if (r.startsWith("refs/heads/")) {
            envs.put("GIT_BRANCH", r.substring("refs/heads/".length()));
        } else if (COMMIT.matcher(r).matches()) {
            envs.put("GIT_COMMIT_HASH", r);
        } else {
            envs.put("GIT_BRANCH", r);
        }
        return envs;
    }

    /** Whether a token can authenticate the clone ({@code git_clone.sh} uses {@code GIT_TOKEN} for https only). */
    public boolean usesToken() {
        return protocol.toLowerCase(Locale.ROOT).equals("https");
    }
}
