// The registry of view declarations: each file of views/ registers one
// model's declaration, and buildRegistry turns them into what the app
// reads (the menu tree, the actions by name, the views by model, the
// home action, the action that opens a model's records). Pure: no DOM,
// no server.

const registered = [];

/**
 * registerView adds a model's view declaration (called once by the
 * model's file in views/). A declaration is {model, actions, opens,
 * create, delete, edit, list, form}:
 *
 *   actions: {name: {title, menu, domain, singleton, live, refreshOn}}
 *     what routes open (#/<name>[/<id>|/new]); each gets model and view
 *     set to the declaration's model. menu is the path of section labels
 *     the action's menu entry goes under ([] for the top level; leave it
 *     out for no entry), labelled menuLabel or title.
 *   opens: the action a many2one link to a record of the model opens;
 *     default the action named after the model, if there is one.
 */
export function registerView(decl) {
  registered.push(decl);
}

/** registeredViews are the declarations registered so far, in order. */
export function registeredViews() {
  return [...registered];
}

/**
 * buildRegistry builds {menu, actions, views, home, actionForModel} from
 * declarations. Menu sections and entries keep the order in which they
 * first appear, so the order of registration is the menu's order; home
 * is the first menu entry's action.
 */
export function buildRegistry(decls) {
  const menu = [];
  const actions = {};
  const views = {};
  const opens = {};
  for (const decl of decls) {
    if (!decl || typeof decl.model !== 'string' || !decl.model) throw new Error('a view declaration needs a model');
    if (views[decl.model]) throw new Error(`the view of ${decl.model} is declared twice`);
    views[decl.model] = decl;
    for (const [name, a] of Object.entries(decl.actions || {})) {
      if (actions[name]) throw new Error(`the action ${name} is declared twice (${actions[name].model}, ${decl.model})`);
      const { menu: path, menuLabel, ...rest } = a;
      actions[name] = { model: decl.model, view: decl.model, ...rest };
      if (Array.isArray(path)) menuSection(menu, path).push({ label: menuLabel || a.title, action: name });
    }
    opens[decl.model] = decl.opens !== undefined ? decl.opens : (decl.actions && decl.actions[decl.model] ? decl.model : null);
  }
  for (const [model, target] of Object.entries(opens)) {
    if (target && !actions[target]) throw new Error(`${model} opens ${target}, which no view declares`);
  }
  return {
    menu,
    actions,
    views,
    home: firstAction(menu) || Object.keys(actions)[0] || '',
    /** actionForModel is the action a many2one link of that model opens, or null. */
    actionForModel: (model) => opens[model] || null,
  };
}

// menuSection is the children list at path, creating the sections.
function menuSection(menu, path) {
  let items = menu;
  for (const label of path) {
    let section = items.find((i) => i.children && i.label === label);
    if (!section) {
      section = { label, children: [] };
      items.push(section);
    }
    items = section.children;
  }
  return items;
}

function firstAction(items) {
  for (const i of items) {
    if (i.action) return i.action;
    const a = i.children && firstAction(i.children);
    if (a) return a;
  }
  return '';
}
