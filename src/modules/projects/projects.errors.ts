import { err } from '../../common/app-error.js';

export const ProjectErrors = {
  notFound: err('RESOURCE_NOT_FOUND', 'Project not found'),
  slugTaken: err('CONFLICT', 'A project with this slug already exists in the organization'),
};
