package dev.skydeck.server.internal;

/** An HTTP error with the {@code detail} the client sees. */
public final class ApiException extends RuntimeException {
    private final int status;

    /** An error with this status and detail. */
    public ApiException(int status, String detail) {
        super(detail, null, false, false);
        this.status = status;
    }

    /** The HTTP status. */
    public int status() {
        return status;
    }

    /** 400: the request is wrong. */
    public static ApiException badRequest(String detail) {
        return new ApiException(400, detail);
    }

    /** 404: nothing there. */
    public static ApiException notFound(String detail) {
        return new ApiException(404, detail);
    }
}
