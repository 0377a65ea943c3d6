package dev.skydeck.server.internal;

import java.nio.ByteBuffer;
import java.util.LinkedHashMap;
import java.util.Map;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.handler.ErrorHandler;
import org.eclipse.jetty.util.Callback;

/**
 * The HTTP container's own errors (a request Jetty refuses before any route sees it: a bad
 * request line, {@code %00} or bad UTF-8 in the path, a URI or headers too large) answered as
 * every other error is: JSON with a {@code detail}, and the security headers. Jetty's default
 * is an HTML page without them.
 */
public final class ContainerErrors extends ErrorHandler {
    @Override
    public boolean handle(Request request, Response response, Callback callback) {
        int status = response.getStatus() <= 0 ? 500 : response.getStatus();
        Object message = request.getAttribute(ERROR_MESSAGE);
        Object cause = request.getAttribute(ERROR_EXCEPTION);
        String reason = message instanceof String m ? m
                : cause instanceof Throwable t && t.getMessage() != null ? t.getMessage() : null;
        HttpFields.Mutable headers = response.getHeaders();
        headers(headers);
        response.write(true, ByteBuffer.wrap(body(status, reason)), callback);
        return true;
    }

    @Override
    public ByteBuffer badMessageError(int status, String reason, HttpFields.Mutable fields) {
        headers(fields);
        return ByteBuffer.wrap(body(status, reason));
    }

    private static void headers(HttpFields.Mutable fields) {
        Guard.HEADERS.forEach((name, value) -> fields.put(new HttpField(name, value)));
        fields.put(HttpHeader.CONTENT_TYPE, "application/json");
        fields.put(HttpHeader.CACHE_CONTROL, "no-store");
    }

    /** {@code {"detail": …}} for a container error. */
    static byte[] body(int status, String reason) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("detail", detail(status, reason));
        return Json.bytes(body);
    }

    private static String detail(int status, String reason) {
        String why = reason == null || reason.isBlank() ? "" : ": " + reason;
        return switch (status) {
            case 400 -> "bad request" + why + " (check the URL's percent-encoding, UTF-8 only, no %00, and the headers)";
            case 404 -> "not found" + why;
            case 413 -> "the request is too large" + why;
            case 414 -> "the request URI is too long" + why + ": shorten the URL (send long values in a JSON body)";
            case 431 -> "the request headers are too large" + why + ": send fewer or shorter headers";
            case 503 -> "the server is unavailable" + why + " (it may be starting or stopping): try again";
            default -> {
                String text = HttpStatus.getMessage(status);
                yield (text == null ? "HTTP error " + status : text.toLowerCase(java.util.Locale.ROOT)) + why;
            }
        };
    }
}
