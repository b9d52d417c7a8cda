// Placeholder: the full demo (deploy, trade, crash the price, run the keeper through the
// loss waterfall, print the report) arrives with the deploy modules in deploy/.
console.log("Backstop demo: not implemented yet; it arrives with the deploy modules (deploy/).");
