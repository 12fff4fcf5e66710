// Agent console entry point: wires the modules up and starts (plain ES modules, no build step).

import { initAdmin } from "./admin.js";
import { initComposer } from "./composer.js";
import { initConversation } from "./conversation.js";
import { initInsights } from "./insights.js";
import { initLabelDialog } from "./label-dialog.js";
import { initQueue } from "./queue.js";
import { initResolveDialog } from "./resolve-dialog.js";
import { initRouter } from "./router.js";
import { boot, initSession } from "./session.js";
import { initShortcuts } from "./shortcuts.js";
import { initSound } from "./sound.js";

initSession();
initSound();
initRouter();
initQueue();
initConversation();
initComposer();
initLabelDialog();
initResolveDialog();
initShortcuts();
initAdmin();
initInsights();
boot();
