/** The client's own messages in English and Chinese; the server's messages are shown as sent. */
export type Lang = 'en' | 'zh';

const en = {
  password_prompt: 'Password for room {room}: ',
  password_required: 'Room {room} needs a password: use --password or ELIZABETH_PASSWORD',
  no_server: 'No server for room "{room}": give a URL (https://host/{room}), --server or ELIZABETH_URL',
  bad_room: 'Not a room address: {input}',
  uploaded: 'uploaded {name} ({size})',
  resumed: 'resuming {name} at {offset}',
  skipped: 'skipped {name}: an earlier run uploaded it and the room has it (--again sends it anyway)',
  downloaded: 'saved {path} ({size})',
  exists: '{path} exists; use --force to overwrite',
  not_in_room: 'No file "{name}" in room {room}',
  nothing_to_pull: 'Name files or ids to pull, or use --all or --zip',
  nothing_to_push: 'Name files, directories or - (stdin) to push',
  stdout_one: '-o - writes exactly one file (or the --zip archive) to stdout',
  stdin_once: '- (stdin) can be given once',
  not_file: '{path} is neither a file nor a directory',
  sent: 'sent #{id}',
  empty_message: 'The message is empty',
  total: 'total',
  empty_room: '(room {room} is empty)',
  connected: '— following {room} ({online} online)',
  reconnecting: '— connection lost ({reason}); reconnecting in {seconds} s',
  online: '— {online} online',
  closed: '— the server closed the connection: {reason}',
  file_event: '[file] {name} ({size})',
  deleted_event: '[deleted] #{id}',
  link_event: '[link] {name} {url}',
  unsupported_shell: 'Unsupported shell "{shell}": bash, zsh or fish',
} as const;

export type MessageKey = keyof typeof en;

const zh: Record<MessageKey, string> = {
  password_prompt: '房间 {room} 的密码：',
  password_required: '房间 {room} 需要密码：请使用 --password 或 ELIZABETH_PASSWORD',
  no_server: '房间 "{room}" 没有服务器地址：请给出网址 (https://host/{room})、--server 或 ELIZABETH_URL',
  bad_room: '不是房间地址：{input}',
  uploaded: '已上传 {name}（{size}）',
  resumed: '从 {offset} 处继续上传 {name}',
  skipped: '跳过 {name}：之前已上传且房间中仍有（--again 可再次上传）',
  downloaded: '已保存 {path}（{size}）',
  exists: '{path} 已存在；使用 --force 覆盖',
  not_in_room: '房间 {room} 中没有文件 "{name}"',
  nothing_to_pull: '请指定要下载的文件名或 id，或使用 --all 或 --zip',
  nothing_to_push: '请指定要上传的文件、目录或 -（标准输入）',
  stdout_one: '-o - 只能向标准输出写一个文件（或 --zip 压缩包）',
  stdin_once: '- （标准输入）只能出现一次',
  not_file: '{path} 既不是文件也不是目录',
  sent: '已发送 #{id}',
  empty_message: '消息为空',
  total: '总计',
  empty_room: '（房间 {room} 是空的）',
  connected: '— 正在关注 {room}（{online} 人在线）',
  reconnecting: '— 连接断开（{reason}）；{seconds} 秒后重连',
  online: '— {online} 人在线',
  closed: '— 服务器关闭了连接：{reason}',
  file_event: '[文件] {name}（{size}）',
  deleted_event: '[已删除] #{id}',
  link_event: '[链接] {name} {url}',
  unsupported_shell: '不支持的 shell "{shell}"：可用 bash、zsh 或 fish',
};

/** `zh…` locales get Chinese, everything else English. `--lang` wins over the environment. */
export function pickLang(flag: string | undefined, locale: string | undefined): Lang {
  const value = (flag ?? locale ?? '').toLowerCase();
  return value.startsWith('zh') ? 'zh' : 'en';
}

export type Translate = (key: MessageKey, params?: Record<string, string | number>) => string;

export function translator(lang: Lang): Translate {
  const table: Record<MessageKey, string> = lang === 'zh' ? zh : en;
  return (key, params = {}) =>
    table[key].replace(/\{(\w+)\}/g, (_, name: string) => String(params[name] ?? ''));
}

/** Sizes as people read them: 1.5 MiB. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}
