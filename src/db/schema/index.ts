export * from './api';
export * from './changes';
export * from './home';
export * from './incidents';
export * from './slack';
export * from './jobs';
export * from './sprints';
export * from './github';
