/**
 * Runs before first paint (inline in <head>): applies the stored theme, font size and language so
 * nothing flashes. Keep it tiny and static — the server hashes it for its CSP.
 */
export const THEME_SCRIPT = `(function(){try{var d=document.documentElement,s=localStorage,t=s.getItem('elizabeth:theme')||'system',k=t==='dark'||(t!=='light'&&matchMedia('(prefers-color-scheme: dark)').matches);d.classList.toggle('dark',k);var f=s.getItem('elizabeth:font-size');if(f)d.setAttribute('data-font-size',f);var l=s.getItem('elizabeth:locale');if(l!=='en'&&l!=='zh'){l=String(navigator.language||'').toLowerCase().indexOf('zh')===0?'zh':'en'}d.setAttribute('data-locale',l);d.lang=l==='zh'?'zh-CN':'en'}catch(e){}})();`;
