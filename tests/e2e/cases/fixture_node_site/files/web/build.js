// Renders src/*.md-ish pages into dist/ with the site title from the environment.
const fs = require('fs');
const path = require('path');
fs.mkdirSync('dist', { recursive: true });
for (const f of fs.readdirSync('src')) {
  const body = fs.readFileSync(path.join('src', f), 'utf8').trim();
  const html = `<!doctype html><title>${process.env.SITE_TITLE}</title><main>${body}</main>\n`;
  fs.writeFileSync(path.join('dist', f.replace(/\.txt$/, '.html')), html);
}
console.log(`built ${fs.readdirSync('dist').length} pages`);
