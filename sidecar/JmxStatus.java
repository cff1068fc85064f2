// One resident JMX client for the sidecar's /status: what `nodetool info`, `status` and
// `netstats` report, read over one kept connection instead of three JVMs per read.
//
// Run as a single-file program (`java JmxStatus.java HOST PORT`). Protocol on stdin/stdout, one
// line each way: the sidecar writes "status", this answers one JSON object, either
// {"ok": true, ...} or {"ok": false, "error": "..."}. On start it prints {"ok": true, "hello": 1}
// so the sidecar can tell a helper that cannot start from a node whose JMX is not up yet.
// It never exits on a JMX failure: the next read connects again.

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.lang.management.MemoryUsage;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import javax.management.MBeanServerConnection;
import javax.management.ObjectName;
import javax.management.openmbean.CompositeData;
import javax.management.remote.JMXConnector;
import javax.management.remote.JMXConnectorFactory;
import javax.management.remote.JMXServiceURL;

public final class JmxStatus {
    private static final String STORAGE = "org.apache.cassandra.db:type=StorageService";
    private static final String SNITCH = "org.apache.cassandra.db:type=EndpointSnitchInfo";

    private final JMXServiceURL url;
    private JMXConnector connector;
    private MBeanServerConnection mbeans;

    private JmxStatus(String host, int port) throws Exception {
        this.url = new JMXServiceURL("service:jmx:rmi:///jndi/rmi://" + host + ":" + port + "/jmxrmi");
    }

    public static void main(String[] args) throws Exception {
        JmxStatus status = new JmxStatus(args[0], Integer.parseInt(args[1]));
        PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        out.println("{\"ok\": true, \"hello\": 1}");
        String line;
        while ((line = in.readLine()) != null) {
            if (!line.trim().equals("status")) {
                out.println("{\"ok\": false, \"error\": " + Json.string("unknown request: " + line) + "}");
                continue;
            }
            out.println(status.answer());
        }
        status.close();
    }

    private String answer() {
        try {
            return Json.encode(read());
        } catch (Exception first) {
            // A kept connection goes stale when the node restarts: connect again once.
            close();
            try {
                return Json.encode(read());
            } catch (Exception e) {
                close();
                Map<String, Object> error = new LinkedHashMap<>();
                error.put("ok", false);
                error.put("error", e.getClass().getSimpleName() + ": " + e.getMessage());
                return Json.encode(error);
            }
        }
    }

    private MBeanServerConnection connection() throws Exception {
        if (mbeans == null) {
            Map<String, Object> env = new HashMap<>();
            connector = JMXConnectorFactory.connect(url, env);
            mbeans = connector.getMBeanServerConnection();
        }
        return mbeans;
    }

    private void close() {
        if (connector != null) {
            try {
                connector.close();
            } catch (Exception ignored) {
                // the connection is being dropped anyway
            }
        }
        connector = null;
        mbeans = null;
    }

    private Object storage(String attribute) throws Exception {
        return connection().getAttribute(new ObjectName(STORAGE), attribute);
    }

    @SuppressWarnings("unchecked")
    private List<String> storageList(String attribute) throws Exception {
        return (List<String>) storage(attribute);
    }

    @SuppressWarnings("unchecked")
    private Map<String, String> storageMap(String attribute) throws Exception {
        return (Map<String, String>) storage(attribute);
    }

    private Map<String, Object> read() throws Exception {
        MBeanServerConnection c = connection();
        ObjectName snitch = new ObjectName(SNITCH);
        Map<String, Object> node = new LinkedHashMap<>();
        node.put("ok", true);
        node.put("mode", storage("OperationMode"));
        node.put("host_id", storage("LocalHostId"));
        node.put("load", storage("LoadString"));
        node.put("tokens", storageList("Tokens").size());
        node.put("gossip_running", storage("GossipRunning"));
        node.put("native_transport_running", storage("NativeTransportRunning"));
        node.put("data_center", c.getAttribute(snitch, "Datacenter"));
        node.put("rack", c.getAttribute(snitch, "Rack"));
        node.put("uptime_s", ((Long) c.getAttribute(new ObjectName("java.lang:type=Runtime"), "Uptime")) / 1000);
        MemoryUsage heap = MemoryUsage.from(
                (CompositeData) c.getAttribute(new ObjectName("java.lang:type=Memory"), "HeapMemoryUsage"));
        node.put("heap_used_mb", heap.getUsed() / 1048576.0);
        node.put("heap_total_mb", (heap.getMax() > 0 ? heap.getMax() : heap.getCommitted()) / 1048576.0);
        node.put("ring", ring(c, snitch));
        return node;
    }

    /** The rows of `nodetool -pp status`: every endpoint in the token map or changing state. */
    private List<Object> ring(MBeanServerConnection c, ObjectName snitch) throws Exception {
        List<String> live = storageList("LiveNodesWithPort");
        List<String> unreachable = storageList("UnreachableNodesWithPort");
        List<String> joining = storageList("JoiningNodesWithPort");
        List<String> leaving = storageList("LeavingNodesWithPort");
        List<String> moving = storageList("MovingNodesWithPort");
        Map<String, String> loads = storageMap("LoadMapWithPort");
        Map<String, String> hostIds = storageMap("EndpointWithPortToHostId");
        Map<String, Integer> tokenCounts = new HashMap<>();
        for (String endpoint : storageMap("TokenToEndpointWithPortMap").values()) {
            tokenCounts.merge(endpoint, 1, Integer::sum);
        }
        Map<String, Float> owns = ownership(c);
        TreeSet<String> endpoints = new TreeSet<>(tokenCounts.keySet());
        endpoints.addAll(joining);
        endpoints.addAll(leaving);
        endpoints.addAll(moving);
        List<Object> rows = new ArrayList<>();
        for (String endpoint : endpoints) {
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("status", live.contains(endpoint) ? "U" : unreachable.contains(endpoint) ? "D" : "?");
            row.put("state", joining.contains(endpoint) ? "J"
                    : leaving.contains(endpoint) ? "L" : moving.contains(endpoint) ? "M" : "N");
            row.put("address", endpoint);
            row.put("load", loads.getOrDefault(endpoint, "?"));
            row.put("tokens", tokenCounts.getOrDefault(endpoint, 0));
            Float share = owns.get(endpoint);
            row.put("owns", share == null ? "?" : String.format("%.1f%%", share * 100));
            row.put("host_id", hostIds.getOrDefault(endpoint, "?"));
            row.put("rack", snitchOf(c, snitch, "getRack", endpoint));
            row.put("data_center", snitchOf(c, snitch, "getDatacenter", endpoint));
            rows.add(row);
        }
        return rows;
    }

    /** Effective ownership when the keyspaces agree on replication (as nodetool), else raw. */
    @SuppressWarnings("unchecked")
    private Map<String, Float> ownership(MBeanServerConnection c) throws Exception {
        ObjectName name = new ObjectName(STORAGE);
        try {
            return (Map<String, Float>) c.invoke(name, "effectiveOwnershipWithPort",
                    new Object[] {null}, new String[] {String.class.getName()});
        } catch (java.io.IOException e) {
            throw e;
        } catch (Exception e) {
            // IllegalStateException: keyspaces differ in replication, "effective" has no meaning.
            return (Map<String, Float>) c.getAttribute(name, "OwnershipWithPort");
        }
    }

    private static String snitchOf(MBeanServerConnection c, ObjectName snitch, String op, String endpoint) {
        try {
            return (String) c.invoke(snitch, op, new Object[] {endpoint}, new String[] {String.class.getName()});
        } catch (Exception e) {
            return "?";
        }
    }

    /** Just enough JSON for the values above: maps, lists, strings, numbers, booleans, null. */
    static final class Json {
        static String encode(Object value) {
            StringBuilder b = new StringBuilder();
            write(b, value);
            return b.toString();
        }

        @SuppressWarnings("unchecked")
        private static void write(StringBuilder b, Object value) {
            if (value == null) {
                b.append("null");
            } else if (value instanceof String s) {
                b.append(string(s));
            } else if (value instanceof Number || value instanceof Boolean) {
                b.append(value);
            } else if (value instanceof Map<?, ?> map) {
                b.append('{');
                String sep = "";
                for (Map.Entry<?, ?> e : map.entrySet()) {
                    b.append(sep).append(string(String.valueOf(e.getKey()))).append(": ");
                    write(b, e.getValue());
                    sep = ", ";
                }
                b.append('}');
            } else if (value instanceof Collection<?> list) {
                b.append('[');
                String sep = "";
                for (Object item : list) {
                    b.append(sep);
                    write(b, item);
                    sep = ", ";
                }
                b.append(']');
            } else {
                b.append(string(value.toString()));
            }
        }

        static String string(String s) {
            StringBuilder b = new StringBuilder("\"");
            for (char ch : s.toCharArray()) {
                switch (ch) {
                    case '"' -> b.append("\\\"");
                    case '\\' -> b.append("\\\\");
                    case '\n' -> b.append("\\n");
                    case '\r' -> b.append("\\r");
                    case '\t' -> b.append("\\t");
                    default -> {
                        if (ch < 0x20) {
                            b.append(String.format("\\u%04x", (int) ch));
                        } else {
                            b.append(ch);
                        }
                    }
                }
            }
            return b.append('"').toString();
        }
    }
}
