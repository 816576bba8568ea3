// The query page: YASGUI on this server's /sparql, and a picker that opens the example queries.
// Without YASGUI (not installed, see the notice on the page) the picker fills the plain form.
(function () {
  "use strict";

  const examples = JSON.parse(document.getElementById("example-queries").textContent);
  const picker = document.getElementById("example-picker");
  const description = document.getElementById("example-description");
  const container = document.getElementById("yasgui");
  const bySlug = new Map(examples.map((example) => [example.slug, example]));
  const byTitle = new Map(examples.map((example) => [example.title, example]));

  function show(example) {
    picker.value = example.slug;
    description.textContent = example.description;
  }

  function startYasgui() {
    // YASGUI needs an absolute URL; the page's own origin, wherever the server is reached.
    const endpoint = new URL(container.dataset.endpoint, window.location.href).href;
    // Only completions that stay in the browser: the class and property completers would
    // send what is typed to an outside vocabulary service.
    Yasgui.Yasqe.defaults.autocompleters = ["prefixes", "variables"];
    const yasgui = new Yasgui(container, {
      requestConfig: {
        endpoint: endpoint,
        method: "POST", // form-encoded: no URL length limit, accepted by the SPARQL 1.1 Protocol
        acceptHeaderSelect: "application/sparql-results+json",
        acceptHeaderGraph: "text/turtle",
      },
      endpointCatalogueOptions: { getData: () => [{ endpoint: endpoint }] },
      copyEndpointOnNewTab: false,
      persistenceId: "osce-kg-query-page",
      tabName: "Query",
      autofocus: false,
      yasqe: { value: examples[0].query },
    });

    function openExample(example) {
      const open = yasgui.tabNameTaken(example.title);
      const tab = open
        ? yasgui.selectTabId(open.getId())
        : yasgui.addTab(true, { name: example.title, yasqe: { value: example.query } });
      tab.setQuery(example.query);
      return tab;
    }

    yasgui.on("tabSelect", (_instance, tabId) => {
      const example = byTitle.get(yasgui.getTab(tabId).getName());
      if (example) show(example);
    });
    const current = yasgui.getTab();
    const example = current && byTitle.get(current.getName());
    if (example) show(example);

    picker.addEventListener("change", () => {
      const chosen = bySlug.get(picker.value);
      show(chosen);
      openExample(chosen);
    });
    window.osceKgQueryPage = { yasgui: yasgui, openExample: openExample };
  }

  function startPlainForm() {
    const textarea = document.querySelector("form textarea[name=query]");
    picker.addEventListener("change", () => {
      const chosen = bySlug.get(picker.value);
      show(chosen);
      textarea.value = chosen.query;
    });
  }

  if (container && typeof window.Yasgui === "function") {
    startYasgui();
  } else {
    if (container) {
      // YASGUI's script did not load: show the plain form the page carries for no-script browsers.
      const fallback = document.querySelector("noscript");
      container.insertAdjacentHTML("afterend", fallback.textContent);
      container.remove();
    }
    startPlainForm();
  }
})();
