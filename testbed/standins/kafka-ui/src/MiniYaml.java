// Part of the kafka-ui STAND-IN (test double). Reads the block-style YAML subset the kafka_ui role renders
// (Ansible's to_nice_yaml): nested mappings, sequences of mappings or scalars, plain, 'single' and
// "double" quoted scalars, [] and {}, comments. Not a general YAML parser.

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

final class MiniYaml {
  private final List<int[]> indents = new ArrayList<>();
  private final List<String> texts = new ArrayList<>();
  private int pos;

  private MiniYaml(String source) {
    for (String raw : source.split("\r?\n")) {
      String line = stripComment(raw);
      if (line.isBlank() || line.trim().equals("---")) {
        continue;
      }
      int indent = 0;
      while (line.charAt(indent) == ' ') {
        indent++;
      }
      indents.add(new int[] {indent});
      texts.add(line.trim());
    }
  }

  @SuppressWarnings("unchecked")
  static Map<String, Object> parse(String source) {
    MiniYaml yaml = new MiniYaml(source);
    if (yaml.texts.isEmpty()) {
      return new LinkedHashMap<>();
    }
    Object root = yaml.block(yaml.indents.get(0)[0]);
    if (yaml.pos < yaml.texts.size()) {
      throw new IllegalArgumentException("YAML: unexpected line '" + yaml.texts.get(yaml.pos) + "'");
    }
    if (!(root instanceof Map)) {
      throw new IllegalArgumentException("YAML: the document is not a mapping");
    }
    return (Map<String, Object>) root;
  }

  private Object block(int indent) {
    return texts.get(pos).startsWith("-") ? sequence(indent) : mapping(indent);
  }

  private List<Object> sequence(int indent) {
    List<Object> list = new ArrayList<>();
    while (pos < texts.size() && indents.get(pos)[0] == indent && texts.get(pos).startsWith("-")) {
      String content = texts.get(pos).substring(1).trim();
      if (content.isEmpty()) {
        pos++;
        list.add(pos < texts.size() && indents.get(pos)[0] > indent ? block(indents.get(pos)[0]) : null);
      } else if (keyEnd(content) > 0) {
        int inner = indent + texts.get(pos).indexOf(content);
        indents.set(pos, new int[] {inner});
        texts.set(pos, content);
        list.add(mapping(inner));
      } else {
        pos++;
        list.add(scalar(content));
      }
    }
    return list;
  }

  private Map<String, Object> mapping(int indent) {
    Map<String, Object> map = new LinkedHashMap<>();
    while (pos < texts.size() && indents.get(pos)[0] == indent && !texts.get(pos).startsWith("- ")) {
      String text = texts.get(pos);
      int end = keyEnd(text);
      if (end < 0) {
        throw new IllegalArgumentException("YAML: expected 'key: value', found '" + text + "'");
      }
      String key = (String) scalar(text.substring(0, end));
      String rest = text.substring(end + 1).trim();
      pos++;
      if (!rest.isEmpty()) {
        map.put(key, scalar(rest));
      } else if (pos < texts.size() && (indents.get(pos)[0] > indent
          || indents.get(pos)[0] == indent && texts.get(pos).startsWith("-"))) {
        map.put(key, block(indents.get(pos)[0]));
      } else {
        map.put(key, null);
      }
    }
    return map;
  }

  /** Index of the ':' ending the key, or -1. */
  private static int keyEnd(String text) {
    char quote = 0;
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (quote != 0) {
        if (c == quote) {
          quote = 0;
        }
      } else if (i == 0 && (c == '\'' || c == '"')) {
        quote = c;
      } else if (c == ':' && (i + 1 == text.length() || text.charAt(i + 1) == ' ')) {
        return i;
      }
    }
    return -1;
  }

  private static Object scalar(String text) {
    String t = text.trim();
    if (t.equals("~") || t.equals("null") || t.isEmpty()) {
      return null;
    }
    if (t.equals("[]")) {
      return new ArrayList<>();
    }
    if (t.equals("{}")) {
      return new LinkedHashMap<>();
    }
    if (t.length() >= 2 && t.startsWith("'") && t.endsWith("'")) {
      return t.substring(1, t.length() - 1).replace("''", "'");
    }
    if (t.length() >= 2 && t.startsWith("\"") && t.endsWith("\"")) {
      StringBuilder out = new StringBuilder();
      for (int i = 1; i < t.length() - 1; i++) {
        char c = t.charAt(i);
        if (c == '\\' && i + 1 < t.length() - 1) {
          char n = t.charAt(++i);
          out.append(n == 'n' ? '\n' : n == 't' ? '\t' : n);
        } else {
          out.append(c);
        }
      }
      return out.toString();
    }
    return t;
  }

  private static String stripComment(String line) {
    char quote = 0;
    for (int i = 0; i < line.length(); i++) {
      char c = line.charAt(i);
      if (quote != 0) {
        if (c == quote) {
          quote = 0;
        }
      } else if (c == '\'' || c == '"') {
        quote = c;
      } else if (c == '#' && (i == 0 || line.charAt(i - 1) == ' ')) {
        return line.substring(0, i);
      }
    }
    return line;
  }
}
