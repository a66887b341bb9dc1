package dev.portalloc;

/**
 * Formatting shared by the API's error messages. Stateless and thread-safe; not part of the API.
 */
final class ErrorText {
    private ErrorText() {
    }

    /**
     * Quotes user input for an error message, escaping control characters, quotes and backslashes, so that
     * tabs, newlines and stray bytes in a bad port list or address are visible in the message.
     */
    static String quote(String text) {
        StringBuilder sb = new StringBuilder(text.length() + 2).append('"');
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            switch (c) {
                case '\t': sb.append("\\t"); break;
                case '\n': sb.append("\\n"); break;
                case '\r': sb.append("\\r"); break;
                case '"': sb.append("\\\""); break;
                case '\\': sb.append("\\\\"); break;
                default:
                    if (c < ' ' || c == 0x7f) {
                        sb.append(String.format("\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
            }
        }
        return sb.append('"').toString();
    }
}
